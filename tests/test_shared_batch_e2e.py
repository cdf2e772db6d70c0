"""Several `panel batch` workers on one job in the shared PostgreSQL store, against the fake API."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from panel.api.client import Client
from panel.api.registry import Registry
from panel.sources.documents import Document
from panel.store.open import open_store
from tests.conftest import FAKE_KEY, PANEL
from tests.fake_anthropic import FakeAnthropic
from tests.test_batch_e2e import FAST, make_backlog, polls

pytestmark = pytest.mark.e2e


def worker(
    fake: FakeAnthropic, url: str, home: Path, backlog: Path, *flags: str
) -> subprocess.Popen[bytes]:
    """One worker: its own data home (its own machine), the team's database."""
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PANEL_HOME": str(home),
        "PANEL_DATABASE_URL": url,
        "PANEL_LEASE_S": "3",
    }
    with (home.parent / f"{home.name}.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [PANEL, "batch", str(backlog), "--job", "team", "--concurrency", "4", *FAST, *flags],
            env=env,
            cwd=backlog.parent,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def query_ok(url: str, table: str) -> bool:
    """Whether `table` exists yet (the first worker sets the database up)."""
    return bool(query(url, f"SELECT to_regclass('{table}') IS NOT NULL")[0][0])


def leased_until(url: str) -> float:
    """The earliest end of a live item lease of the job (0 if none yet)."""
    [(until,)] = query(url, "SELECT MIN(lease_until) FROM job_items WHERE lease_owner IS NOT NULL")
    return float(until or 0)


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def test_three_workers_one_killed_review_each_tool_once(
    fake: FakeAnthropic, tmp_path: Path, pg_url: str
) -> None:
    """kill -9 of one worker halfway: its items are taken over; every tool has exactly one
    complete run, each unique document is uploaded once, and no item is left claimed."""
    fake.latency = (0.05, 0.2)
    backlog, unique = make_backlog(tmp_path, 60)
    assert query(pg_url, "SELECT 1")  # the database exists; the first worker sets it up
    procs = [worker(fake, pg_url, tmp_path / f"home{i}", backlog) for i in range(3)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            done = query(pg_url, "SELECT COUNT(*) FROM runs")[0][0]
        except psycopg.errors.UndefinedTable:
            continue
        if isinstance(done, int) and done >= 20:
            break
    procs[0].send_signal(signal.SIGKILL)
    procs[0].wait(timeout=10)
    killed_at = query(pg_url, "SELECT COUNT(*) FROM runs")[0][0]
    assert isinstance(killed_at, int) and 20 <= killed_at < 60  # killed mid-job
    codes = [proc.wait(timeout=180) for proc in procs]
    logs = [(tmp_path / f"home{i}.log").read_text()[-2000:] for i in range(3)]
    assert codes == [-signal.SIGKILL, 0, 0], logs
    runs = query(pg_url, "SELECT slug, decision FROM runs")
    assert len(runs) == 60 and len({slug for slug, _ in runs}) == 60
    assert query(pg_url, "SELECT state, COUNT(*) FROM job_items GROUP BY state") == [("done", 60)]
    assert query(pg_url, "SELECT status FROM jobs") == [("complete",)]
    assert len(fake.uploads) == unique == len({u["sha256"] for u in fake.uploads})


def test_three_workers_share_a_message_batches_job(
    fake: FakeAnthropic, tmp_path: Path, pg_url: str
) -> None:
    """`--via batches` on three machines at once, one killed with kill -9 while batches are out:
    each tool is submitted once (one warm-up request and three others per tool, no custom_id
    twice), any worker collects any batch, and every tool ends with exactly one complete run."""
    fake.batch_delay = 1.5
    backlog, unique = make_backlog(tmp_path, 24)
    flags = ("--via", "batches", "--poll", "0.1")
    procs = [worker(fake, pg_url, tmp_path / f"home{i}", backlog, *flags) for i in range(3)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (fake.batches and polls(fake)):
        time.sleep(0.05)
    assert polls(fake)  # batches are out and being polled
    procs[0].send_signal(signal.SIGKILL)
    procs[0].wait(timeout=10)
    assert query(pg_url, "SELECT COUNT(*) FROM runs")[0][0] < 24  # killed mid-job
    codes = [proc.wait(timeout=180) for proc in procs]
    logs = [(tmp_path / f"home{i}.log").read_text()[-2000:] for i in range(3)]
    assert codes[1:] == [0, 0], logs
    # the killed worker's leases ran out; a later run (any machine) finishes what it held
    again = worker(fake, pg_url, tmp_path / "home1", backlog, *flags)
    assert again.wait(timeout=120) == 0, (tmp_path / "home1.log").read_text()[-2000:]
    runs = query(pg_url, "SELECT slug, record ->> 'status' FROM runs")
    assert len(runs) == 24 and len({slug for slug, _ in runs}) == 24
    assert {status for _, status in runs} == {"complete"}
    assert query(pg_url, "SELECT state, COUNT(*) FROM job_items GROUP BY state") == [("done", 24)]
    assert query(
        pg_url, "SELECT COUNT(*) FROM job_items WHERE lease_owner IS NOT NULL AND state <> 'done'"
    ) == [(0,)]
    sent = [r["custom_id"] for b in fake.batches.values() for r in b["_requests"]]
    assert len(sent) == len(set(sent)) == 24 * 5  # builder + card, then three personas
    assert len(fake.uploads) == unique == len({u["sha256"] for u in fake.uploads})
    assert not [m for m in fake.message_requests if m["_status"] == 200]  # nothing redone live


BATCH_FLAGS = ("--via", "batches", "--poll", "0.1")


def settle(procs: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    codes = [proc.wait(timeout=180) for proc in procs]
    logs = [p.read_text()[-1500:] for p in sorted(tmp_path.glob("*.log"))]
    assert codes == [0] * len(procs), logs


def assert_each_tool_once(fake: FakeAnthropic, pg_url: str, tools: int, unique: int) -> None:
    """One complete run per tool, no request (custom_id) or run sent twice, nothing held."""
    runs = query(pg_url, "SELECT slug FROM runs")
    assert len(runs) == tools and len(set(runs)) == tools
    assert query(pg_url, "SELECT state, COUNT(*) FROM job_items GROUP BY state") == [
        ("done", tools)
    ]
    sent = [r["custom_id"] for b in fake.batches.values() for r in b["_requests"]]
    assert len(sent) == len(set(sent)) == tools * 5
    assert len(fake.uploads) == unique
    assert query(pg_url, "SELECT status FROM jobs") == [("complete",)]


def test_a_worker_killed_inside_a_batch_create_has_that_batch_adopted(
    fake: FakeAnthropic, tmp_path: Path, pg_url: str
) -> None:
    """kill -9 while the create is in flight (the API makes the batch; its id is never recorded):
    the other workers, started at once, wait out the dead worker's lease, then one adopts the
    batch instead of submitting its tools again."""
    fake.batch_delay = 0.2
    fake.batch_create_delay = 1.0
    backlog, unique = make_backlog(tmp_path, 8)
    first = worker(fake, pg_url, tmp_path / "home0", backlog, *BATCH_FLAGS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not fake.batch_creates_started:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    fake.batch_create_delay = 0.0
    others = [worker(fake, pg_url, tmp_path / f"home{i}", backlog, *BATCH_FLAGS) for i in (1, 2)]
    settle(others, tmp_path)
    assert fake.batch_creates_started == 2  # the adopted warm-up, then the second round
    assert_each_tool_once(fake, pg_url, 8, unique)


def test_a_submission_longer_than_the_lease_is_not_sent_twice(
    fake: FakeAnthropic, tmp_path: Path, pg_url: str
) -> None:
    """Uploads that take longer than a lease (3 s here): the first worker keeps its tools (the
    heartbeat runs while it submits), so a second worker started meanwhile submits nothing."""
    fake.batch_delay = 0.2
    fake.upload_delay = 6.0
    backlog, unique = make_backlog(tmp_path, 6)
    first = worker(fake, pg_url, tmp_path / "home0", backlog, *BATCH_FLAGS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not query_ok(pg_url, "job_items"):
        time.sleep(0.05)
    while time.monotonic() < deadline and not (first_until := leased_until(pg_url)):
        time.sleep(0.05)
    while time.monotonic() < deadline and time.time() <= first_until:
        time.sleep(0.05)  # the first lease taken would have run out by now, unless renewed
    assert not fake.uploads and leased_until(pg_url) > first_until  # still uploading, renewed
    second = worker(fake, pg_url, tmp_path / "home1", backlog, *BATCH_FLAGS)
    settle([first, second], tmp_path)
    assert_each_tool_once(fake, pg_url, 6, unique)


def test_a_batches_worker_takes_over_a_dead_workers_tools(
    fake: FakeAnthropic, tmp_path: Path, pg_url: str
) -> None:
    """kill -9 while the first worker uploads: the one started right after waits while the dead
    worker's leases run, then submits those tools itself; none stays running."""
    fake.batch_delay = 0.2
    fake.upload_delay = 1.0
    backlog, unique = make_backlog(tmp_path, 6)
    first = worker(fake, pg_url, tmp_path / "home0", backlog, *BATCH_FLAGS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not fake.uploads:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    fake.upload_delay = 0.0
    second = worker(fake, pg_url, tmp_path / "home1", backlog, *BATCH_FLAGS)
    settle([second], tmp_path)
    runs = query(pg_url, "SELECT slug FROM runs")
    assert len(runs) == 6 and len(set(runs)) == 6
    assert query(pg_url, "SELECT state, COUNT(*) FROM job_items GROUP BY state") == [("done", 6)]
    assert len({u["sha256"] for u in fake.uploads}) == unique


def test_two_processes_uploading_one_document_upload_it_once(
    fake: FakeAnthropic, tmp_path: Path, pg_url: str
) -> None:
    """Two registries (two workers) on the shared store: one upload, both get its file_id.

    The fake holds the upload until the second registry has found the content claimed, so both
    are inside the claim at once: the race the claim exists for, shown rather than assumed."""
    fake.hold_uploads()
    doc = Document(
        name="terms.md",
        title="terms",
        mime="text/plain",
        origin="file",
        source="terms.md",
        data=b"Common vendor terms.\n" * 50,
    )
    os.environ["PANEL_DATABASE_URL"] = pg_url
    try:
        stores = [open_store(tmp_path / f"home{i}") for i in range(2)]
    finally:
        del os.environ["PANEL_DATABASE_URL"]
    waited: list[int] = []

    async def both() -> list[tuple[str, bool]]:
        regs = [
            Registry(
                s,
                Client(FAKE_KEY, base_url=fake.url),
                fake.url,
                on_wait=lambda _doc, i=i: waited.append(i),
            )
            for i, s in enumerate(stores)
        ]
        try:
            ensured = asyncio.gather(*(r.ensure(doc) for r in regs))
            deadline = time.monotonic() + 30
            while not (waited and fake.uploads_started) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert fake.uploads_started == 1 and not fake.uploads  # one uploads, one waits
            fake.release_uploads()
            return list(await ensured)
        finally:
            fake.release_uploads()
            for r in regs:
                await r.client.sdk.close()

    try:
        results = asyncio.run(both())
    finally:
        for store in stores:
            store.close()
    assert len(waited) == 1 and len(fake.uploads) == 1 and fake.uploads_started == 1
    assert results[0][0] == results[1][0]
    assert [now for _, now in results] == [i != waited[0] for i in range(2)]
