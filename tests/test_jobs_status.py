"""A job's status with several workers: one worker's end is not the job's (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from panel.batch.backlog import BacklogRow
from panel.batch.jobs import Jobs
from panel.store.open import open_store
from panel.store.sqlite import Store
from tests.conftest import Result
from tests.runs import make_run, verdict

ROWS = [BacklogRow(name="Acme", slug="acme", line=2), BacklogRow(name="Zed", slug="zed", line=3)]


def opened(store: Store) -> Jobs:
    jobs = Jobs(store)
    jobs.open("job", Path("b.csv"), ROWS, via="live", model="m")
    return jobs


def record(jobs: Jobs, slug: str, run_id: str) -> None:
    """The tool's run, indexed with its item marked done, as a worker records it."""
    run = make_run(run_id, [verdict(p, 70) for p in ("builder", "skeptic", "founder")], slug=slug)
    jobs.store.save_run(run, also=lambda db: jobs.mark_run("job")(db, run))


@pytest.mark.parametrize(
    ("states", "reason", "status"),
    [
        ({"acme": "done", "zed": "done"}, "complete", "complete"),
        ({"acme": "done", "zed": "failed"}, "failed", "failed"),
        ({"acme": "done", "zed": "pending"}, "complete", "stopped"),
        ({"acme": "done", "zed": "pending"}, "budget", "budget"),
        ({"acme": "done", "zed": "submitted"}, "submitted", "submitted"),
    ],
)
def test_a_job_is_complete_only_when_no_item_is_left(
    make_store: Callable[..., Store], states: dict[str, str], reason: str, status: str
) -> None:
    """`complete` needs every item done; a worker's own `complete` with items left is `stopped`."""
    jobs = opened(make_store())
    for slug, state in states.items():
        jobs.set_state("job", slug, state)  # type: ignore[arg-type]
    assert jobs.finish("job", reason) == status
    assert [(j["job_id"], j["status"]) for j in jobs.overview()] == [("job", status)]


def test_a_worker_ending_while_another_holds_items_leaves_the_job_running(
    panel_cli: Callable[..., Result], pg_url: str, tmp_path: Path
) -> None:
    """Worker B ends while A reviews both tools: `panel jobs` says running, then complete when A
    ends; a lease that ran out (a killed worker) holds nothing, so B's end is then `stopped`."""
    env = {"PANEL_DATABASE_URL": pg_url}
    a, b = (opened(open_store(tmp_path / home, url=pg_url)) for home in ("a", "b"))
    try:
        assert [a.claim("job", ["acme", "zed"]) is not None for _ in ROWS] == [True, True]
        assert b.finish("job", "complete") == "running"
        [job] = panel_cli("jobs", "--json", env=env).json()
        assert (job["status"], job["done"], job["pending"]) == ("running", 0, 2)
        record(a, "acme", "r1")
        record(a, "zed", "r2")
        assert a.finish("job", "complete") == "complete"
        [job] = panel_cli("jobs", "--json", env=env).json()
        assert (job["status"], job["done"], job["pending"]) == ("complete", 2, 0)

        a.open(
            "job",
            Path("b.csv"),
            [*ROWS, BacklogRow(name="New", slug="new", line=4)],
            via="live",
            model="m",
        )
        a.lease_s = -1.0  # A claims the new tool, then dies: its lease has run out
        assert a.claim("job", ["new"]) is not None
        assert b.finish("job", "complete") == "stopped"
        assert panel_cli("jobs", "--json", env=env).json()[0]["status"] == "stopped"
    finally:
        a.store.close()
        b.store.close()


def test_a_killed_workers_job_shows_stopped_not_running(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    """A worker killed mid-job never writes its end. `panel jobs` tells the truth from the job's
    lock (this data home) or its items' leases (shared store): `running` while one is held."""
    import fcntl
    import os

    from panel.batch.locks import lock_path

    store = make_store(tmp_path / "home")
    jobs = opened(store)
    jobs.set_state("job", "acme", "done")
    assert [j["status"] for j in jobs.overview()] == ["stopped"]  # opened, then nobody there
    if store.dialect == "postgres":
        worker = Jobs(store)
        assert worker.claim("job", ["zed"]) is not None  # a live lease
    else:
        path = lock_path(store.home, "job")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)  # held by a "worker" (another open file description)
    try:
        assert [j["status"] for j in jobs.overview()] == ["running"]
    finally:
        if store.dialect == "sqlite":
            os.close(fd)
    if store.dialect == "sqlite":
        assert [j["status"] for j in jobs.overview()] == ["stopped"]
