"""Job state in SQLite: what a rerun redoes, and that a run and its item's state commit together."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.batch.backlog import BacklogRow
from panel.batch.jobs import Jobs, job_id_for
from panel.batch.locks import exclusive
from panel.errors import InputError
from panel.judge.decision import decide
from panel.model.run import Run, ToolInfo
from panel.model.verdict import Usage, Verdict, VerdictRecord
from panel.store.sqlite import Store

ROWS = [BacklogRow(f"Tool {i}", f"tool-{i}", i + 1, description="d") for i in range(4)]


@pytest.fixture
def jobs(tmp_path: Path) -> Jobs:
    jobs = Jobs(Store(tmp_path / "home"))
    jobs.open("job", tmp_path / "b.csv", ROWS, via="live", model="m")
    return jobs


def run_for(slug: str, job_id: str = "job", run_id: str = "r1") -> Run:
    ok = VerdictRecord.ok("p", 1, Verdict(score=80, decision="ship", rationale="fine"))
    return Run(
        run_id=run_id,
        job_id=job_id,
        model="m",
        tool=ToolInfo(name=slug, slug=slug),
        documents=[],
        verdicts=[ok] * 4,
        panel=decide([ok] * 4),
        usage=Usage(input_tokens=10),
        cost_usd=0.5,
    )


def states(jobs: Jobs) -> dict[str, str]:
    return {i.slug: i.state for i in jobs.items("job")}


def test_resume_redoes_running_and_failed_only_when_asked(jobs: Jobs) -> None:
    jobs.set_state("job", "tool-0", "running")
    jobs.set_state("job", "tool-1", "failed", error="boom")
    jobs.store.save_run(
        run_for("tool-2"), also=lambda db: jobs.mark_run("job")(db, run_for("tool-2"))
    )
    jobs.resume("job", retry_failed=False)
    assert states(jobs) == {
        "tool-0": "pending",
        "tool-1": "failed",
        "tool-2": "done",
        "tool-3": "pending",
    }
    jobs.resume("job", retry_failed=True)
    assert states(jobs)["tool-1"] == "pending" and states(jobs)["tool-2"] == "done"


def test_item_is_done_only_if_its_run_is_indexed(jobs: Jobs) -> None:
    """A failure inside the indexing transaction leaves neither the run row nor the done state."""
    run = run_for("tool-0")

    def also(db: object) -> None:
        jobs.mark_run("job")(db, run)  # type: ignore[arg-type]
        raise RuntimeError("killed mid-transaction")

    with pytest.raises(RuntimeError):
        jobs.store.save_run(run, also=also)
    assert states(jobs)["tool-0"] == "pending"
    assert jobs.store.run_ids("tool-0") == []


def test_resume_removes_records_written_but_never_indexed(jobs: Jobs) -> None:
    """A kill between writing a record and indexing it leaves a file no one owns; it goes."""
    jobs.set_state("job", "tool-0", "running")
    orphan = jobs.store.record_path(run_for("tool-0", run_id="orphan"))
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_text(run_for("tool-0", run_id="orphan").model_dump_json())
    other_job = jobs.store.record_path(run_for("tool-0", job_id="other", run_id="keep"))
    other_job.write_text(run_for("tool-0", job_id="other", run_id="keep").model_dump_json())
    jobs.resume("job", retry_failed=False)
    assert not orphan.exists() and other_job.exists()


def test_rows_added_later_join_the_job(jobs: Jobs, tmp_path: Path) -> None:
    more = [*ROWS, BacklogRow("Tool 9", "tool-9", 5, description="d")]
    jobs.set_state("job", "tool-0", "failed")
    jobs.open("job", tmp_path / "b.csv", more, via="live", model="m")
    assert states(jobs)["tool-9"] == "pending" and states(jobs)["tool-0"] == "failed"


def test_a_job_keeps_its_mode(jobs: Jobs, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--via live"):
        jobs.open("job", tmp_path / "b.csv", ROWS, via="batches", model="m")


def test_job_id_is_stable_per_backlog_path(tmp_path: Path) -> None:
    a = tmp_path / "tools.csv"
    assert job_id_for(a) == job_id_for(a) and job_id_for(a).startswith("tools-")
    assert job_id_for(tmp_path / "x" / "tools.csv") != job_id_for(a)
    assert job_id_for(a, "Spring Review") == "spring-review"


def test_one_process_per_job(jobs: Jobs) -> None:
    with (
        exclusive(jobs.store, "job"),
        pytest.raises(InputError, match="already running"),
        exclusive(jobs.store, "job"),
    ):
        pass
    with exclusive(jobs.store, "job"):
        pass  # released after the first
