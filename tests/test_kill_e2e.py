"""kill -9 at eight random points of one batch, resuming after each: the invariants hold.

A kill point is a count of requests the fake has answered (or a batch create in flight), so each
kill lands mid-work however slow the machine is.

Each tool exactly one complete run, every JSON record parses, `PRAGMA integrity_check` is ok,
uploads equal unique documents, no upload left claimed.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic
from tests.test_batch_e2e import FAST, job_runs, make_backlog, spawn_batch

pytestmark = pytest.mark.e2e
KILLS = 8  # each one mid-work: a worker's start-up alone is seconds on a busy machine


def kill_after(
    proc: subprocess.Popen[bytes], fake: FakeAnthropic, answered: int, create_from: int = -1
) -> None:
    """kill -9 once the fake has answered `answered` requests in all (or, with `create_from`,
    as soon as a batch create past that many has started): mid-work, whatever the machine's speed.
    The process must not have ended on its own before that."""
    deadline = time.monotonic() + 60

    def landed() -> bool:
        created = create_from >= 0 and fake.batch_creates_started > create_from
        return created or len(fake.requests) >= answered

    while proc.poll() is None and not landed() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the worker ended before the kill point"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def test_kills_mid_work_then_resume_keep_every_invariant(
    fake: FakeAnthropic, tmp_path: Path, isolated_env: Path, panel_cli: Callable[..., Result]
) -> None:
    fake.latency = (0.02, 0.15)
    backlog, unique = make_backlog(tmp_path, 20)
    rng = random.Random(20261126)
    for _ in range(KILLS):
        target = len(fake.requests) + rng.randint(1, 6)  # kill after this many answered
        proc = spawn_batch(fake, isolated_env, tmp_path, backlog, "--concurrency", "6", *FAST)
        kill_after(proc, fake, target)
    assert len(job_runs(isolated_env)) < 20  # every kill landed mid-job: work is left to resume
    result = panel_cli("batch", str(backlog), "--json", *FAST)
    assert result.code == 0, result.stderr
    assert result.json()["counts"] == {"done": 20, "failed": 0, "pending": 0}

    runs = job_runs(isolated_env)
    slugs = [r["slug"] for r in runs]
    assert len(slugs) == 20 and len(set(slugs)) == 20
    assert all(r["decision"] != "incomplete" for r in runs)
    records = list(isolated_env.glob("*/*.json"))
    assert {p.stem for p in records} == {r["run_id"] for r in runs}
    for path in records:
        assert json.loads(path.read_text())["run_id"] == path.stem
    db = sqlite3.connect(isolated_env / "panel.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM upload_claims").fetchone()[0] == 0
    finally:
        db.close()
    assert len(fake.files) == unique


def test_kills_through_both_rounds_of_a_batches_job_send_nothing_twice(
    fake: FakeAnthropic, tmp_path: Path, isolated_env: Path, panel_cli: Callable[..., Result]
) -> None:
    """`--via batches` (warm: two rounds) killed at eight random points, creates included: no
    request reaches the API twice, nothing is redone live, each tool has exactly one run."""
    fake.batch_delay = 0.3
    fake.batch_create_delay = 0.1
    backlog, unique = make_backlog(tmp_path, 12)
    flags = ("--via", "batches", "--poll", "0.05", *FAST)
    rng = random.Random(20261127)
    for _ in range(8):
        target, creates = len(fake.requests) + rng.randint(1, 3), fake.batch_creates_started
        inside_create = rng.random() < 0.3  # some kills while a create is in flight
        proc = spawn_batch(fake, isolated_env, tmp_path, backlog, *flags)
        kill_after(proc, fake, target, creates if inside_create else -1)
    assert len(job_runs(isolated_env)) < 12  # every kill landed mid-job: work is left to resume
    result = panel_cli("batch", str(backlog), "--json", *flags)
    assert result.code == 0, result.stderr
    assert result.json()["counts"] == {"done": 12, "failed": 0, "pending": 0}
    runs = job_runs(isolated_env)
    assert len(runs) == 12 and len({r["slug"] for r in runs}) == 12
    sent = [r["custom_id"] for b in fake.batches.values() for r in b["_requests"]]
    assert len(sent) == len(set(sent)) == 12 * 5
    assert not [m for m in fake.message_requests if m["_status"] == 200]
    assert len(fake.files) == unique
