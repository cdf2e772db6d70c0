"""Issue 20: a reply that trickles a byte at a time is abandoned at the call's total deadline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]


@pytest.fixture
def small(tmp_path: Path) -> str:
    path = tmp_path / "tiny.md"
    path.write_text("# Tiny\n\nTiny is a small tool.\n")
    return str(path)


def test_a_trickling_reply_fails_at_the_call_deadline(
    panel_cli: Cli, fake: FakeAnthropic, small: str
) -> None:
    """Never silent for the read timeout, yet each call ends at PANEL_CALL_DEADLINE, and the
    run is recorded with every persona failed, naming the deadline."""
    fake.trickle_next(count=1000, interval=2.0)
    env = {"PANEL_CALL_DEADLINE": "1", "PANEL_ATTEMPTS": "1"}
    result = panel_cli("review", small, "--json", env=env, timeout=120)
    assert result.code == 1, result.stderr
    out: dict[str, Any] = result.json()
    assert [v["status"] for v in out["verdicts"]] == ["failed"] * 4
    assert all("PANEL_CALL_DEADLINE" in v["error"] for v in out["verdicts"])


def test_a_reply_within_the_deadline_is_kept(
    panel_cli: Cli, fake: FakeAnthropic, small: str
) -> None:
    """Only the trickling call fails: the others finish within their deadline."""
    fake.trickle_next(count=1, interval=2.0)
    env = {"PANEL_CALL_DEADLINE": "1", "PANEL_ATTEMPTS": "1"}
    result = panel_cli("review", small, "--json", env=env, timeout=120)
    out: dict[str, Any] = result.json()
    failed = [v for v in out["verdicts"] if v["status"] == "failed"]
    card_failed = out["tool"]["card_error"] is not None
    assert len(failed) + card_failed == 1
