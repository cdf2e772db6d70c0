"""One scheduler for every persona call of a batch: a cap on requests in flight, client-side rate
limits (requests, input and output tokens per minute) per model, and a pause when a 429 comes anyway.

The API counts its limits per model class (Sonnet, Haiku, Opus), so each class has its own buckets.
They start at a conservative tier until the first reply, then follow its `anthropic-ratelimit-*`
headers (limit and remaining, for requests, input and output tokens); `--rpm` and the like are caps.

A 429 pauses everybody for `retry-after` (within a cap) and lowers the rate, which then climbs back
as calls succeed. Retrying is not the scheduler's job: `panel.api.retry` decides whether a failed
call goes again, and each attempt waits its turn here.

Waiters are admitted in priority order (lower first, then arrival): `batch` gives each tool its
position in the backlog, so the personas of a tool already started go before a new tool's first
call, and a tool's calls run close together while its cached prefix is warm.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from panel.errors import RateLimited

T = TypeVar("T")

DEFAULT_CONCURRENCY = 16
# Where a model's buckets start before its first reply: what a new organisation gets (tier 1).
DEFAULT_RPM = 50
DEFAULT_ITPM = 30_000
DEFAULT_OTPM = 8_000
UNLIMITED = math.inf
KINDS = ("requests", "input-tokens", "output-tokens")
# Run the buckets this far under the limits, so a sliding-window limiter upstream never trips.
DEFAULT_HEADROOM = 0.9
DEFAULT_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
# After a 429 the rate drops to this share, then each success gives back RECOVERY of the full rate.
SLOWDOWN = 0.5
MIN_RATE_SHARE = 0.1
RECOVERY = 0.02


@dataclass(frozen=True)
class Limits:
    """Client-side limits per model. None: start at the conservative tier and learn the real
    limit from the API's headers; a number: start there and never go above it (a cap);
    `UNLIMITED` (`--itpm 0`): no bucket at all."""

    concurrency: int = DEFAULT_CONCURRENCY
    rpm: float | None = None
    itpm: float | None = None
    otpm: float | None = None
    headroom: float = DEFAULT_HEADROOM

    def start(self, kind: str) -> float:
        cap, default = {
            "requests": (self.rpm, DEFAULT_RPM),
            "input-tokens": (self.itpm, DEFAULT_ITPM),
            "output-tokens": (self.otpm, DEFAULT_OTPM),
        }[kind]
        return default if cap is None else cap

    def cap(self, kind: str) -> float:
        value = {"requests": self.rpm, "input-tokens": self.itpm, "output-tokens": self.otpm}[kind]
        return UNLIMITED if value is None else value


def model_class(model: str) -> str:
    """The API's unit of rate limiting: the model's family (`claude-sonnet-5-5` -> `sonnet`)."""
    found = re.search(r"(opus|sonnet|haiku)", model)
    return found.group(1) if found else model


def header_number(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, ValueError):
        return None


class TokenBucket:
    """A leaky bucket that refills `per_minute` a minute; the level may go negative (a debt) when
    the real cost of a call turns out higher than its estimate. Pure: callers pass the time."""

    def __init__(self, per_minute: float, now: float, *, headroom: float = 1.0) -> None:
        self.headroom = headroom
        self.share = 1.0
        self.updated = now
        self._apply(per_minute)
        self.level = self.capacity

    def _apply(self, per_minute: float) -> None:
        self.per_minute = per_minute
        self.rate = per_minute * self.headroom / 60.0  # per second at full speed
        # The burst plus a minute of refill must stay under the limit in any 60 s window.
        self.capacity = max(1.0, per_minute * (1.0 - self.headroom))

    def set_limit(self, per_minute: float, now: float) -> None:
        """Follow a new limit (learned from the API); what is already taken stays taken."""
        self._refill(now)
        self._apply(per_minute)
        self.level = min(self.level, self.capacity)

    def _refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate * self.share)
        self.updated = now

    def delay(self, amount: float, now: float) -> float:
        """Seconds until `amount` can be taken (more than the capacity waits for a full bucket)."""
        self._refill(now)
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / (self.rate * self.share)

    def take(self, amount: float, now: float) -> None:
        self._refill(now)
        self.level -= amount

    def settle(self, estimated: float, actual: float) -> None:
        """Correct an earlier `take(estimated)` once the real amount is known."""
        self.level = min(self.capacity, self.level - (actual - estimated))

    def drain(self, now: float) -> None:
        self._refill(now)
        self.level = min(self.level, 0.0)


@dataclass
class ModelLimits:
    """One model class's buckets, what the API said of them, and its pause after a 429."""

    requests: TokenBucket
    input: TokenBucket | None
    output: TokenBucket | None
    paused_until: float = 0.0
    strikes: int = 0  # 429s since the last success
    learned: dict[str, float] = field(default_factory=dict)  # kind -> the API's limit

    @property
    def buckets(self) -> list[TokenBucket]:
        return [b for b in (self.requests, self.input, self.output) if b is not None]

    def bucket(self, kind: str) -> TokenBucket | None:
        return {
            "requests": self.requests,
            "input-tokens": self.input,
            "output-tokens": self.output,
        }[kind]


class Scheduler:
    """Admits calls under their model's limits, in priority order; a 429 pauses that model."""

    def __init__(
        self,
        limits: Limits = Limits(),
        *,
        clock: Callable[[], float] = time.monotonic,
        backoff_s: float = DEFAULT_BACKOFF_S,
        max_pause: float = MAX_BACKOFF_S,
    ) -> None:
        self.limits = limits
        self.max_pause = max_pause  # a server's wait past this pauses a model no longer
        self.clock = clock
        self.backoff_s = backoff_s
        self.models: dict[str, ModelLimits] = {}
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rate_limited = 0
        self.retried = 0
        self._waiting: dict[str, list[tuple[int, int]]] = {}
        self._seq = itertools.count()
        self._wakers: dict[tuple[int, int], asyncio.Event] = {}  # each waiter's own wake-up
        self.wakeups = 0  # times a waiter woke to look at its turn again
        self._default = self.model("")

    def model(self, model: str) -> ModelLimits:
        """The buckets of `model`'s class, made at the conservative start on first use."""
        key = model_class(model)
        if key not in self.models:
            now = self.clock()

            def bucket(kind: str) -> TokenBucket | None:
                start = self.limits.start(kind)
                if math.isinf(start) or start <= 0:
                    return None
                return TokenBucket(start, now, headroom=self.limits.headroom)

            requests = bucket("requests")
            assert requests is not None, "a request limit is always kept"
            self.models[key] = ModelLimits(
                requests, bucket("input-tokens"), bucket("output-tokens")
            )
        return self.models[key]

    # The default model's buckets: what a scheduler without model names uses.
    @property
    def requests(self) -> TokenBucket:
        return self._default.requests

    @property
    def input(self) -> TokenBucket | None:
        return self._default.input

    @property
    def output(self) -> TokenBucket | None:
        return self._default.output

    @property
    def buckets(self) -> list[TokenBucket]:
        return self._default.buckets

    @property
    def paused_until(self) -> float:
        return self._default.paused_until

    def _delay(self, tokens_in: int, tokens_out: int, now: float, model: str = "") -> float:
        m = self.model(model)
        waits = [m.paused_until - now, m.requests.delay(1, now)]
        if m.input:
            waits.append(m.input.delay(tokens_in, now))
        if m.output:
            waits.append(m.output.delay(tokens_out, now))
        return max(waits)

    async def acquire(
        self, priority: int, tokens_in: int, tokens_out: int, model: str = ""
    ) -> None:
        """Wait for this call's turn: first in its model's line, a free slot, and room in every
        bucket of its model (a Haiku call never waits behind a rate-limited Sonnet call)."""
        me = (priority, next(self._seq))
        line = self._waiting.setdefault(model_class(model), [])
        woken = self._wakers[me] = asyncio.Event()
        heapq.heappush(line, me)
        try:
            while True:
                delay: float | None = None
                if line[0] == me and self.in_flight < self.limits.concurrency:
                    now = self.clock()
                    delay = self._delay(tokens_in, tokens_out, now, model)
                    if delay <= 0:
                        break
                woken.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await woken.wait()
                self.wakeups += 1
        except BaseException:
            line.remove(me)
            heapq.heapify(line)
            del self._wakers[me]
            self._wake_heads()
            raise
        heapq.heappop(line)
        del self._wakers[me]
        now = self.clock()
        m = self.model(model)
        m.requests.take(1, now)
        if m.input:
            m.input.take(tokens_in, now)
        if m.output:
            m.output.take(tokens_out, now)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self._wake_heads()

    async def release(self) -> None:
        self.in_flight -= 1
        self._wake_heads()

    def _wake_heads(self) -> None:
        """Wake the first waiter of each model's line: only a head can be admitted, so waking
        the others (hundreds, in a batch) would cost each call a pass over all of them."""
        for line in self._waiting.values():
            if line:
                self._wakers[line[0]].set()

    def observe(self, model: str, headers: Mapping[str, str]) -> None:
        """Follow the API's `anthropic-ratelimit-*` headers: its limit (within our caps) and what
        remains (never more than it says). `-reset` is when the limit is *fully* replenished, so
        it is not a wait: the bucket refills at the limit's rate from what remains."""
        m = self.model(model)
        now = self.clock()
        for kind in KINDS:
            bucket = m.bucket(kind)
            prefix = f"anthropic-ratelimit-{kind}-"
            limit = header_number(headers, prefix + "limit")
            if bucket is None or limit is None or limit <= 0:
                continue
            limit = min(limit, self.limits.cap(kind))
            m.learned[kind] = limit
            if limit != bucket.per_minute:
                bucket.set_limit(limit, now)
            remaining = header_number(headers, prefix + "remaining")
            if remaining is not None and remaining < bucket.level:
                bucket.level = remaining

    def on_rate_limited(
        self, retry_after: float | None, model: str = "", headers: Mapping[str, str] | None = None
    ) -> None:
        """A 429: that model's callers wait, its buckets empty, and its rate drops until calls
        succeed again."""
        self.rate_limited += 1
        m = self.model(model)
        m.strikes += 1
        now = self.clock()
        backoff = min(MAX_BACKOFF_S, self.backoff_s * 2 ** (m.strikes - 1))
        wait = min(retry_after, self.max_pause) if retry_after is not None else backoff
        m.paused_until = max(m.paused_until, now + wait)
        for bucket in m.buckets:
            bucket.drain(now)
            bucket.share = max(MIN_RATE_SHARE, bucket.share * SLOWDOWN)
        if headers:
            self.observe(model, headers)

    def on_success(self, model: str = "") -> None:
        m = self.model(model)
        m.strikes = 0
        for bucket in m.buckets:
            bucket.share = min(1.0, bucket.share + RECOVERY)

    def settle(
        self, est_in: int, est_out: int, real_in: int, real_out: int, model: str = ""
    ) -> None:
        m = self.model(model)
        if m.input:
            m.input.settle(est_in, real_in)
        if m.output:
            m.output.settle(est_out, real_out)

    def learned(self) -> dict[str, dict[str, float]]:
        """What each model class's limits are now, as the API said (for the job summary)."""
        return {k: dict(m.learned) for k, m in self.models.items() if m.learned}

    async def run(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        priority: int = 0,
        tokens_in: int = 0,
        tokens_out: int = 0,
        measure: Callable[[T], tuple[int, int]] | None = None,
        model: str = "",
        headers: Callable[[T], Mapping[str, str]] | None = None,
    ) -> T:
        """Run `call` once, when its model's limits allow. A 429 pauses that model (for the
        server's `retry-after` within the cap) before it is raised; retrying is
        `panel.api.retry`'s job."""
        await self.acquire(priority, tokens_in, tokens_out, model)
        try:
            result = await call()
        except RateLimited as exc:
            self.on_rate_limited(exc.retry_after, model, exc.headers)
            raise
        finally:
            await self.release()
        self.on_success(model)
        if headers is not None:
            self.observe(model, headers(result))
        if measure is not None:
            real_in, real_out = measure(result)
            self.settle(tokens_in, tokens_out, real_in, real_out, model)
        return result
