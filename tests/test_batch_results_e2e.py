"""Issue 20: a Message Batches results download that stalls, or carries a garbled line.

A stall is one line saying so and how to resume, exit 1, with the results already read kept; the
same command resumes. A garbled line costs only its own request, redone live.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic
from tests.test_batch_e2e import ONE_ROUND, job_runs, make_backlog

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]
TOOLS = 2
REQUESTS = TOOLS * 5  # four personas and the card per tool
# Seconds of silence before the client gives up on a read: short, so the stall ends quickly.
STALL = {"PANEL_TIMEOUT": "1"}


def request_states(home: Path) -> dict[str, int]:
    db = sqlite3.connect(home / "panel.db")
    try:
        rows = db.execute("SELECT state, COUNT(*) FROM job_requests GROUP BY state").fetchall()
    finally:
        db.close()
    return dict(rows)


def live_calls(fake: FakeAnthropic) -> int:
    return sum(1 for m in fake.message_requests if m["_status"] == 200)


@pytest.fixture
def backlog(tmp_path: Path, fake: FakeAnthropic) -> Path:
    fake.batch_delay = 0.05
    path, _ = make_backlog(tmp_path, TOOLS, shared=0)
    return path


def test_a_stalled_download_is_one_line_saying_how_to_resume(
    panel_cli: Cli, fake: FakeAnthropic, backlog: Path
) -> None:
    """The download stops after 3 lines: exit 1, one line naming the stall and the resume."""
    fake.stall_results(after=3)
    result = panel_cli("batch", str(backlog), *ONE_ROUND, env=STALL)
    assert result.code == 1, result.stderr
    assert "Traceback" not in result.stderr and "a bug in panel" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("panel: error: batch ") and "results download stalled" in line
    assert "after 3 of" in line and "run the same command again" in line


def test_results_read_before_a_stall_are_kept(
    panel_cli: Cli, fake: FakeAnthropic, backlog: Path, isolated_env: Path
) -> None:
    """The 3 results that arrived are stored; the others are still out in the batch."""
    fake.stall_results(after=3)
    panel_cli("batch", str(backlog), *ONE_ROUND, env=STALL)
    states = request_states(isolated_env)
    assert states.get("submitted") == REQUESTS - 3
    assert sum(n for state, n in states.items() if state != "submitted") == 3


def test_the_same_command_resumes_after_a_stall(
    panel_cli: Cli, fake: FakeAnthropic, backlog: Path, isolated_env: Path
) -> None:
    """Run again: the same batch's results are read, nothing submitted or redone live."""
    fake.stall_results(after=3)
    assert panel_cli("batch", str(backlog), *ONE_ROUND, env=STALL).code == 1
    again = panel_cli("batch", str(backlog), "--json", *ONE_ROUND, env=STALL)
    assert again.code == 0, again.stderr
    assert again.json()["counts"] == {"done": TOOLS, "failed": 0, "pending": 0}
    assert len(fake.batches) == 1 and live_calls(fake) == 0
    assert len(job_runs(isolated_env)) == TOOLS


def test_a_garbled_line_is_redone_live_and_the_job_completes(
    panel_cli: Cli, fake: FakeAnthropic, backlog: Path
) -> None:
    """A line cut in half: its request (only) is redone live, counted as unreadable."""
    fake.garble_results(line=1)
    result = panel_cli("batch", str(backlog), "--json", *ONE_ROUND)
    assert result.code == 0, result.stderr
    out = result.json()
    assert out["counts"] == {"done": TOOLS, "failed": 0, "pending": 0}
    assert out["batch_retries"] == {"unreadable": 1}
    assert live_calls(fake) == 1
