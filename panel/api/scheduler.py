"""One scheduler for every persona call of a batch: a cap on requests in flight, client-side rate
limits (requests, input and output tokens per minute), and a shared pause when a 429 comes anyway.

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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from panel.errors import RateLimited

T = TypeVar("T")

# A conservative tier: what a new organisation gets on a Sonnet-class model.
DEFAULT_CONCURRENCY = 16
DEFAULT_RPM = 50
DEFAULT_ITPM = 30_000
DEFAULT_OTPM = 8_000
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
    """Client-side limits; None turns a token limit off."""

    concurrency: int = DEFAULT_CONCURRENCY
    rpm: float = DEFAULT_RPM
    itpm: float | None = DEFAULT_ITPM
    otpm: float | None = DEFAULT_OTPM
    headroom: float = DEFAULT_HEADROOM


class TokenBucket:
    """A leaky bucket that refills `per_minute` a minute; the level may go negative (a debt) when
    the real cost of a call turns out higher than its estimate. Pure: callers pass the time."""

    def __init__(self, per_minute: float, now: float, *, headroom: float = 1.0) -> None:
        self.rate = per_minute * headroom / 60.0  # per second at full speed
        # The burst plus a minute of refill must stay under the limit in any 60 s window.
        self.capacity = max(1.0, per_minute * (1.0 - headroom))
        self.level = self.capacity
        self.share = 1.0
        self.updated = now

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


class Scheduler:
    """Admits calls under the limits, in priority order, and pauses everybody after a 429."""

    def __init__(
        self,
        limits: Limits = Limits(),
        *,
        clock: Callable[[], float] = time.monotonic,
        backoff_s: float = DEFAULT_BACKOFF_S,
        max_pause: float = MAX_BACKOFF_S,
    ) -> None:
        self.limits = limits
        self.max_pause = max_pause  # a server's wait past this pauses everybody no longer
        self.clock = clock
        self.backoff_s = backoff_s
        now = clock()
        self.requests = TokenBucket(limits.rpm, now, headroom=limits.headroom)
        self.input = (
            TokenBucket(limits.itpm, now, headroom=limits.headroom) if limits.itpm else None
        )
        self.output = (
            TokenBucket(limits.otpm, now, headroom=limits.headroom) if limits.otpm else None
        )
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rate_limited = 0
        self.retried = 0
        self.paused_until = 0.0
        self._strikes = 0  # 429s since the last success
        self._waiting: list[tuple[int, int]] = []
        self._seq = itertools.count()
        self._cond = asyncio.Condition()

    @property
    def buckets(self) -> list[TokenBucket]:
        return [b for b in (self.requests, self.input, self.output) if b is not None]

    def _delay(self, tokens_in: int, tokens_out: int, now: float) -> float:
        waits = [self.paused_until - now, self.requests.delay(1, now)]
        if self.input:
            waits.append(self.input.delay(tokens_in, now))
        if self.output:
            waits.append(self.output.delay(tokens_out, now))
        return max(waits)

    async def acquire(self, priority: int, tokens_in: int, tokens_out: int) -> None:
        """Wait for this call's turn: first in line, a free slot, and room in every bucket."""
        me = (priority, next(self._seq))
        async with self._cond:
            heapq.heappush(self._waiting, me)
            try:
                while True:
                    delay: float | None = None
                    if self._waiting[0] == me and self.in_flight < self.limits.concurrency:
                        now = self.clock()
                        delay = self._delay(tokens_in, tokens_out, now)
                        if delay <= 0:
                            break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._cond.wait(), delay)
            except BaseException:
                self._waiting.remove(me)
                heapq.heapify(self._waiting)
                self._cond.notify_all()
                raise
            heapq.heappop(self._waiting)
            now = self.clock()
            self.requests.take(1, now)
            if self.input:
                self.input.take(tokens_in, now)
            if self.output:
                self.output.take(tokens_out, now)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self._cond.notify_all()

    async def release(self) -> None:
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def on_rate_limited(self, retry_after: float | None) -> None:
        """A 429: everybody waits, the buckets empty, and the rate drops until calls succeed."""
        self.rate_limited += 1
        self._strikes += 1
        now = self.clock()
        backoff = min(MAX_BACKOFF_S, self.backoff_s * 2 ** (self._strikes - 1))
        wait = min(retry_after, self.max_pause) if retry_after is not None else backoff
        self.paused_until = max(self.paused_until, now + wait)
        for bucket in self.buckets:
            bucket.drain(now)
            bucket.share = max(MIN_RATE_SHARE, bucket.share * SLOWDOWN)

    def on_success(self) -> None:
        self._strikes = 0
        for bucket in self.buckets:
            bucket.share = min(1.0, bucket.share + RECOVERY)

    def settle(self, est_in: int, est_out: int, real_in: int, real_out: int) -> None:
        if self.input:
            self.input.settle(est_in, real_in)
        if self.output:
            self.output.settle(est_out, real_out)

    async def run(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        priority: int = 0,
        tokens_in: int = 0,
        tokens_out: int = 0,
        measure: Callable[[T], tuple[int, int]] | None = None,
    ) -> T:
        """Run `call` once, when the limits allow. A 429 pauses every caller (for the server's
        `retry-after` within the cap) before it is raised; retrying is `panel.api.retry`'s job."""
        await self.acquire(priority, tokens_in, tokens_out)
        try:
            result = await call()
        except RateLimited as exc:
            self.on_rate_limited(exc.retry_after)
            raise
        finally:
            await self.release()
        self.on_success()
        if measure is not None:
            real_in, real_out = measure(result)
            self.settle(tokens_in, tokens_out, real_in, real_out)
        return result
