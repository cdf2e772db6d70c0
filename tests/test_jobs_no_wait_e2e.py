"""Issue 11: `panel batch --via batches --no-wait` submits and exits; `panel jobs` shows the job;
running the batch again collects it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic
from tests.test_batch_e2e import BATCHES, job_runs, make_backlog


def test_no_wait_submits_then_a_later_run_collects(
    panel_cli: Callable[..., Result], fake: FakeAnthropic, tmp_path: Path, isolated_env: Path
) -> None:
    fake.batch_delay = 30.0  # still processing when the first command returns
    backlog, _ = make_backlog(tmp_path, 3)
    first = panel_cli("batch", str(backlog), "--json", "--no-wait", *BATCHES)
    assert first.code == 0, first.stderr
    out = first.json()
    assert out["status"] == "submitted" and out["counts"]["pending"] == 3
    assert len(fake.batches) == 1 and job_runs(isolated_env) == []
    assert not [m for m in fake.message_requests if m["_status"] == 200]  # nothing live

    jobs = panel_cli("jobs", "--json").json()
    assert [(j["job_id"], j["status"], j["open_batches"], j["pending"]) for j in jobs] == [
        (out["job_id"], "submitted", 1, 3)
    ]
    assert out["job_id"] in panel_cli("jobs").stdout

    for batch in fake.batches.values():
        batch["_ends"] = 0  # the API finishes the warm-up batch
    second = panel_cli("batch", str(backlog), "--json", "--no-wait", *BATCHES)
    assert second.code == 0, second.stderr
    # its results are stored and the second round (the other three personas) submitted
    assert second.json()["status"] == "submitted" and len(fake.batches) == 2
    assert job_runs(isolated_env) == []

    for batch in fake.batches.values():
        batch["_ends"] = 0
    third = panel_cli("batch", str(backlog), "--json", *BATCHES)
    assert third.code == 0, third.stderr
    assert third.json()["counts"] == {"done": 3, "failed": 0, "pending": 0}
    assert len(fake.batches) == 2 and len(job_runs(isolated_env)) == 3
    assert panel_cli("jobs", "--json").json()[0]["status"] == "complete"


def test_no_wait_is_for_batches_only(panel_cli: Callable[..., Result], tmp_path: Path) -> None:
    backlog, _ = make_backlog(tmp_path, 1)
    result = panel_cli("batch", str(backlog), "--no-wait")
    assert result.code == 2 and "--no-wait needs --via batches" in result.stderr
