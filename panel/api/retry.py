"""The one retry layer for every API call (messages, uploads, batch calls), built on tenacity.

The SDK's own retries are off (`max_retries=0`), so an attempt here is an attempt at the server: at
most `attempts` per logical call, whatever the error. A server's `retry-after` is honoured up to a cap;
past the cap a review fails that call with a clear message rather than freezing for an hour, and a
batch puts the call back in its queue behind the others (`requeue_over_cap`).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from panel.config import env_number
from panel.errors import APIError, Retryable

T = TypeVar("T")

DEFAULT_ATTEMPTS = 3
# The longest server-given wait honoured (seconds): `retry-after: 3600` is not worth an hour.
DEFAULT_MAX_WAIT_S = 60.0
# Back-off base (seconds) when the server gives no hint: random exponential, capped at the max wait.
DEFAULT_BACKOFF_S = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = DEFAULT_ATTEMPTS
    max_wait: float = DEFAULT_MAX_WAIT_S
    backoff: float = DEFAULT_BACKOFF_S
    requeue_over_cap: bool = False  # batch: a wait past the cap goes back in the queue

    def over_cap(self, exc: BaseException) -> bool:
        hint = getattr(exc, "retry_after", None)
        return hint is not None and hint > self.max_wait

    def retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, Retryable) and (self.requeue_over_cap or not self.over_cap(exc))

    def wait(self, state: RetryCallState) -> float:
        """The server's hint within the cap; else random exponential back-off."""
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None)
        if hint is not None:
            return min(hint, self.max_wait)
        return float(wait_random_exponential(multiplier=self.backoff, max=self.max_wait)(state))


def policy_from_env(env: Mapping[str, str] | None = None, **overrides: object) -> RetryPolicy:
    """`PANEL_ATTEMPTS`, `PANEL_MAX_WAIT` and `PANEL_BACKOFF` over the defaults."""
    env = os.environ if env is None else env
    policy = RetryPolicy(
        attempts=int(env_number("PANEL_ATTEMPTS", DEFAULT_ATTEMPTS, minimum=1, env=env)),
        max_wait=env_number("PANEL_MAX_WAIT", DEFAULT_MAX_WAIT_S, env=env),
        backoff=env_number("PANEL_BACKOFF", DEFAULT_BACKOFF_S, env=env),
    )
    return replace(policy, **overrides)  # type: ignore[arg-type]


async def retrying(
    call: Callable[[int], Awaitable[T]],
    policy: RetryPolicy,
    *,
    before_retry: Callable[[BaseException], Awaitable[None]] | None = None,
) -> T:
    """Run `call(attempt)` (attempt counts from 1) until it succeeds or the policy gives up.

    The last error is raised as it is; one that asked for a wait past the cap says so.
    """

    async def hook(state: RetryCallState) -> None:
        if before_retry is not None and state.outcome is not None:
            exc = state.outcome.exception()
            if exc is not None:
                await before_retry(exc)

    retryer = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=policy.wait,
        retry=retry_if_exception(policy.retryable),
        before_sleep=hook,
        reraise=True,
    )
    try:
        async for attempt in retryer:
            with attempt:
                return await call(attempt.retry_state.attempt_number)
    except Retryable as exc:
        if policy.over_cap(exc) and not policy.requeue_over_cap:
            raise APIError(
                f"{exc}; the API asked to wait {exc.retry_after:.0f} s, over the "
                f"{policy.max_wait:.0f} s cap (PANEL_MAX_WAIT)"
            ) from exc
        raise
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
