"""Issue 11: rate limits learned per model from the API's headers; flags are caps."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from panel.api.scheduler import DEFAULT_RPM, UNLIMITED, Limits, Scheduler, model_class
from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic

SONNET, HAIKU = "claude-sonnet-5-5", "claude-haiku-5-5"


def headers(limit: int, remaining: int, reset_in: float = 30.0, kind: str = "requests") -> dict:
    reset = (datetime.now(UTC) + timedelta(seconds=reset_in)).isoformat()
    prefix = f"anthropic-ratelimit-{kind}-"
    return {
        prefix + "limit": str(limit),
        prefix + "remaining": str(remaining),
        prefix + "reset": reset,
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_models_are_limited_by_their_class() -> None:
    assert model_class(SONNET) == "sonnet" and model_class("claude-haiku-5-5-20261101") == "haiku"
    assert model_class("my-local-model") == "my-local-model"


def test_each_model_starts_conservative_then_follows_its_headers() -> None:
    """Before a reply: the tier-1 start. After: the limit the API states, per model."""
    scheduler = Scheduler(Limits(), clock=Clock())
    assert scheduler.model(SONNET).requests.per_minute == DEFAULT_RPM
    scheduler.observe(SONNET, headers(4000, 3990))
    assert scheduler.model(SONNET).requests.per_minute == 4000
    assert scheduler.model(HAIKU).requests.per_minute == DEFAULT_RPM  # its own, still unknown
    scheduler.observe(HAIKU, headers(10_000, 9_000) | headers(400_000, 1, kind="input-tokens"))
    assert scheduler.model(HAIKU).input.per_minute == 400_000  # type: ignore[union-attr]
    assert scheduler.learned() == {
        "sonnet": {"requests": 4000},
        "haiku": {"requests": 10_000, "input-tokens": 400_000},
    }


def test_a_flag_is_a_cap_on_what_is_learned() -> None:
    scheduler = Scheduler(Limits(rpm=100), clock=Clock())
    assert scheduler.model(SONNET).requests.per_minute == 100  # a given limit is the start
    scheduler.observe(SONNET, headers(4000, 3999))
    assert scheduler.model(SONNET).requests.per_minute == 100


def test_no_token_bucket_when_turned_off() -> None:
    scheduler = Scheduler(Limits(itpm=UNLIMITED, otpm=UNLIMITED), clock=Clock())
    assert scheduler.model(SONNET).input is None and scheduler.model(SONNET).output is None


def test_little_remaining_holds_the_next_call_back() -> None:
    """`remaining` below what we think we have wins: with none left, the next call waits for the
    bucket to refill one request at the limit's rate, not for the full reset."""
    clock = Clock()
    scheduler = Scheduler(Limits(), clock=clock, max_pause=60)
    scheduler.observe(SONNET, headers(4000, 0, reset_in=60))
    delay = scheduler._delay(0, 0, clock.now, SONNET)
    assert 0 < delay < 0.1  # 60 s / (4000 x 0.9)
    assert scheduler._delay(0, 0, clock.now, HAIKU) <= 0  # another model is not held back


def test_a_429_pauses_only_its_model() -> None:
    clock = Clock()
    scheduler = Scheduler(Limits(), clock=clock)
    scheduler.on_rate_limited(10.0, SONNET)
    assert scheduler._delay(0, 0, clock.now, SONNET) >= 10
    assert scheduler._delay(0, 0, clock.now, HAIKU) <= 0


@pytest.mark.anyio
async def test_a_haiku_call_does_not_wait_behind_a_paused_sonnet_call() -> None:
    """With the clock stopped the Sonnet pause never ends: the Haiku call, queued after the
    Sonnet one, still runs (a Haiku call waiting behind it would never return)."""
    import asyncio

    scheduler = Scheduler(Limits(concurrency=4), clock=Clock())
    scheduler.on_rate_limited(30.0, SONNET)
    blocked = asyncio.create_task(scheduler.run(lambda: asyncio.sleep(0, "s"), model=SONNET))
    while not scheduler._waiting.get(model_class(SONNET)):  # the Sonnet call is in its line
        await asyncio.sleep(0)
    done = await scheduler.run(lambda: asyncio.sleep(0, "h"), model=HAIKU)
    assert done == "h" and not blocked.done()
    assert scheduler._waiting[model_class(SONNET)]  # still waiting, not run and gone
    blocked.cancel()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_batch_learns_each_models_limits_from_the_fake(
    panel_cli: Callable[..., Result], fake: FakeAnthropic, tmp_path: Path
) -> None:
    """No flags: the job summary shows the limits the fake stated for Sonnet and for Haiku."""
    fake.limits = {"sonnet": (3000, 1_500_000, 300_000), "haiku": (9000, 4_000_000, 800_000)}
    backlog = tmp_path / "b.jsonl"
    backlog.write_text(
        "\n".join(
            json.dumps({"name": f"Tool {i}", "description": f"Tool {i} does {i}."})
            for i in range(3)
        )
    )
    out = panel_cli("batch", str(backlog), "--json").json()
    assert out["counts"]["done"] == 3
    assert out["limits_learned"]["sonnet"] == {
        "requests": 3000,
        "input-tokens": 1_500_000,
        "output-tokens": 300_000,
    }
    assert out["limits_learned"]["haiku"]["requests"] == 9000
    assert out["rate_limited"] == 0
