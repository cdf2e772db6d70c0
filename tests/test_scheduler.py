"""The batch scheduler: token buckets on a fake clock; admission and 429s with tiny waits."""

from __future__ import annotations

import asyncio

import pytest

from panel.api.scheduler import Limits, Scheduler, TokenBucket
from panel.errors import RateLimited, Retryable


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_bucket_never_exceeds_the_limit_in_any_minute() -> None:
    """Burst plus a minute of refill stays under the limit (the server may use a sliding window)."""
    bucket = TokenBucket(60, now=0.0, headroom=0.9)
    taken: list[float] = []
    t = 0.0
    while t < 180:
        if bucket.delay(1, t) == 0:
            bucket.take(1, t)
            taken.append(t)
        t += 0.05
    for start in taken:
        assert sum(1 for x in taken if start <= x < start + 60) <= 60
    assert len(taken) >= 150  # and it does not starve: ~54 a minute after the burst


def test_bucket_delay_says_when_there_is_room() -> None:
    bucket = TokenBucket(600, now=0.0, headroom=0.5)  # 300 burst, 5 a second
    bucket.take(300, 0.0)
    assert bucket.delay(10, 0.0) == pytest.approx(2.0)
    assert bucket.delay(10, 2.0) == 0.0


def test_settle_turns_an_underestimate_into_a_debt() -> None:
    bucket = TokenBucket(600, now=0.0, headroom=0.5)
    bucket.take(100, 0.0)
    bucket.settle(100, 400)  # the call really cost 400
    assert bucket.level == pytest.approx(-100)
    assert bucket.delay(1, 0.0) == pytest.approx(101 / 5)


def test_amounts_over_the_capacity_wait_for_a_full_bucket() -> None:
    """A huge prompt is admitted once the bucket is full, instead of never."""
    bucket = TokenBucket(60, now=0.0, headroom=0.9)
    assert bucket.delay(10_000, 0.0) == 0.0


def fast(concurrency: int = 4) -> Scheduler:
    return Scheduler(
        Limits(concurrency=concurrency, rpm=600_000, itpm=None, otpm=None), backoff_s=0.01
    )


@pytest.mark.anyio
async def test_in_flight_never_passes_the_cap() -> None:
    scheduler = fast(concurrency=3)
    now = 0
    peak = 0

    async def call() -> None:
        nonlocal now, peak
        now += 1
        peak = max(peak, now)
        await asyncio.sleep(0.01)
        now -= 1

    await asyncio.gather(*(scheduler.run(call) for _ in range(20)))
    assert peak == 3 and scheduler.peak_in_flight == 3


@pytest.mark.anyio
async def test_lower_priority_number_goes_first() -> None:
    """Waiting calls are admitted by priority (a tool's backlog position), not arrival."""
    scheduler = fast(concurrency=1)
    order: list[int] = []
    gate = asyncio.Event()

    async def blocker() -> None:
        await gate.wait()

    async def call(n: int) -> None:
        order.append(n)

    first = asyncio.create_task(scheduler.run(blocker))
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(scheduler.run(lambda n=n: call(n), priority=n)) for n in (5, 3, 9, 1)
    ]
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(first, *waiting)
    assert order == [1, 3, 5, 9]


@pytest.mark.anyio
async def test_a_429_pauses_everyone_then_recovers() -> None:
    """One 429 holds back every caller for retry-after and lowers the rate; the 429 is raised
    (the retry layer decides on a retry) and the slot is free again."""
    scheduler = fast(concurrency=8)
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def limited() -> str:
        starts.append(loop.time())
        raise RateLimited("429", retry_after=0.2)

    async def call() -> str:
        starts.append(loop.time())
        return "ok"

    with pytest.raises(RateLimited):
        await scheduler.run(limited)
    assert scheduler.in_flight == 0
    t429 = starts[0]
    results = await asyncio.gather(*(scheduler.run(call) for _ in range(5)))
    assert results == ["ok"] * 5
    assert all(s >= t429 + 0.19 for s in starts[1:])
    assert scheduler.rate_limited == 1
    assert scheduler.requests.share > 0.5  # climbing back after successes


@pytest.mark.anyio
async def test_a_server_wait_past_the_cap_pauses_only_up_to_the_cap() -> None:
    """Issue 10: `retry-after: 3599` in a batch pauses everybody for the cap, not an hour."""
    scheduler = Scheduler(Limits(concurrency=4, rpm=6000, itpm=None, otpm=None), max_pause=0.1)

    async def limited() -> None:
        raise RateLimited("429", retry_after=3599)

    with pytest.raises(RateLimited):
        await scheduler.run(limited)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await scheduler.run(lambda: asyncio.sleep(0, "ok")) == "ok"
    assert loop.time() - t0 < 1.0


@pytest.mark.anyio
async def test_transient_errors_are_raised_once_and_release_the_slot() -> None:
    """The scheduler makes one attempt: a 529 comes straight back to the retry layer."""
    scheduler = fast()
    attempts = 0

    async def call() -> None:
        nonlocal attempts
        attempts += 1
        raise Retryable("529 overloaded", retry_after=0.0)

    with pytest.raises(Retryable):
        await scheduler.run(call)
    assert attempts == 1
    assert scheduler.in_flight == 0


@pytest.mark.anyio
async def test_other_errors_release_the_slot() -> None:
    scheduler = fast(concurrency=1)

    async def boom() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError):
        await scheduler.run(boom)
    assert scheduler.in_flight == 0
    assert await scheduler.run(lambda: asyncio.sleep(0, "fine")) == "fine"


@pytest.mark.anyio
async def test_cancelled_waiter_leaves_the_queue() -> None:
    scheduler = fast(concurrency=1)
    gate = asyncio.Event()
    holder = asyncio.create_task(scheduler.run(gate.wait))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(scheduler.run(lambda: asyncio.sleep(0)))
    await asyncio.sleep(0.01)
    waiter.cancel()
    await asyncio.sleep(0)
    gate.set()
    await holder
    assert await scheduler.run(lambda: asyncio.sleep(0, 1)) == 1


@pytest.mark.anyio
async def test_a_finished_call_wakes_only_the_next_in_line() -> None:
    """Hundreds of calls queued behind 4 slots: each admission or release wakes the head of the
    line, not every waiter (a batch of 2,000 tools would otherwise pay a pass over all of them
    per call). The calls still run in priority order."""
    scheduler = Scheduler(Limits(concurrency=4, rpm=10**9, itpm=0, otpm=0))
    order: list[int] = []

    async def call(i: int) -> None:
        async def work() -> None:
            order.append(i)
            await asyncio.sleep(0)

        await scheduler.run(work, priority=i)

    await asyncio.gather(*(call(i) for i in reversed(range(300))))
    assert len(order) == 300
    assert order[4:] == sorted(order[4:])  # after the first four (admitted at once), by priority
    assert scheduler.wakeups <= 3 * 300  # a notify-all would wake ~300 waiters per call: ~45,000
