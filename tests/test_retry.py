"""The one retry layer: attempts per logical call, server hints within a cap, what is retried."""

from __future__ import annotations

import asyncio

import pytest

from panel.api.retry import RetryPolicy, policy_from_env, retrying
from panel.errors import APIError, ConfigError, RateLimited, Retryable

FAST = RetryPolicy(attempts=3, max_wait=60, backoff=0)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the retry layer asks for (tenacity sleeps through `asyncio.sleep`), not slept."""
    asked: list[float] = []
    real = asyncio.sleep

    async def sleep(seconds: float, result: object = None) -> object:
        asked.append(seconds)
        return await real(0, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return asked


def counting(exc: BaseException | None, fail_times: int = 10**6):
    """A call that raises `exc` on its first `fail_times` attempts, then returns its attempt number."""
    seen: list[int] = []

    async def call(attempt: int) -> int:
        seen.append(attempt)
        if exc is not None and len(seen) <= fail_times:
            raise exc
        return attempt

    return call, seen


@pytest.mark.anyio
async def test_a_permanent_529_costs_three_attempts() -> None:
    """Issue 10: a permanent overload is tried at most three times, then raised as it is."""
    call, seen = counting(Retryable("HTTP 529 overloaded"))
    with pytest.raises(Retryable, match="529"):
        await retrying(call, FAST)
    assert seen == [1, 2, 3]


@pytest.mark.anyio
async def test_a_transient_failure_then_success_returns_the_result() -> None:
    call, seen = counting(Retryable("connection reset"), fail_times=2)
    assert await retrying(call, FAST) == 3
    assert seen == [1, 2, 3]


@pytest.mark.anyio
async def test_permanent_errors_are_not_retried() -> None:
    """A 400 (APIError) or a refused key (ConfigError) is raised on the first attempt."""
    for exc in (APIError("HTTP 400"), ConfigError("bad key")):
        call, seen = counting(exc)
        with pytest.raises(type(exc)):
            await retrying(call, FAST)
        assert seen == [1]


@pytest.mark.anyio
async def test_a_wait_past_the_cap_fails_at_once_with_a_clear_message(
    sleeps: list[float],
) -> None:
    """Issue 10: `retry-after: 3600` fails the call in review instead of freezing for an hour."""
    call, seen = counting(RateLimited("HTTP 429", retry_after=3600))
    with pytest.raises(
        APIError, match=r"asked to wait 3600 s, over the 60 s cap \(PANEL_MAX_WAIT\)"
    ):
        await retrying(call, FAST)
    assert seen == [1] and sleeps == []


@pytest.mark.anyio
async def test_a_wait_within_the_cap_is_honoured(sleeps: list[float]) -> None:
    """`retry-after: 0.2` within the cap: the one wait before the second attempt is the hint."""
    call, _ = counting(RateLimited("HTTP 429", retry_after=0.2), fail_times=1)
    assert await retrying(call, FAST) == 2
    assert sleeps == [0.2]


@pytest.mark.anyio
async def test_batch_requeues_past_the_cap_and_waits_at_most_the_cap(
    sleeps: list[float],
) -> None:
    """In a batch a wait past the cap is retried after the cap (behind the other calls)."""
    policy = RetryPolicy(attempts=3, max_wait=0.05, backoff=0, requeue_over_cap=True)
    call, _ = counting(RateLimited("HTTP 429", retry_after=3599), fail_times=1)
    assert await retrying(call, policy) == 2
    assert sleeps == [0.05]


@pytest.mark.anyio
async def test_before_retry_sees_each_failure() -> None:
    failures: list[str] = []

    async def note(exc: BaseException) -> None:
        failures.append(str(exc))

    call, _ = counting(Retryable("boom"), fail_times=2)
    await retrying(call, FAST, before_retry=note)
    assert failures == ["boom", "boom"]


def test_policy_reads_the_environment() -> None:
    policy = policy_from_env({"PANEL_ATTEMPTS": "5", "PANEL_MAX_WAIT": "10", "PANEL_BACKOFF": "0"})
    assert (policy.attempts, policy.max_wait, policy.backoff) == (5, 10.0, 0.0)


@pytest.mark.parametrize(
    ("name", "value"), [("PANEL_MAX_WAIT", "abc"), ("PANEL_ATTEMPTS", "0"), ("PANEL_BACKOFF", "-1")]
)
def test_bad_policy_settings_are_one_line_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        policy_from_env({name: value})
