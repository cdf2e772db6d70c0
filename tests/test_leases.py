"""Item leases on the shared store: a live lease is never taken, so no tool is paid for twice."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from panel.batch.backlog import BacklogRow
from panel.batch.jobs import Jobs
from panel.demo.fake_api import PERSONA_IN_TEXT, SUBJECT, _request_text
from panel.store.open import open_store
from tests.fake_anthropic import FakeAnthropic
from tests.test_batch_e2e import make_backlog
from tests.test_shared_batch_e2e import query, worker

ROWS = [BacklogRow(name="Acme", slug="acme", line=2), BacklogRow(name="Zed", slug="zed", line=3)]


def two_workers(pg_url: str, tmp_path: Path) -> tuple[Jobs, Jobs]:
    """Two workers (two owners) on one job of the shared store."""
    a, b = (Jobs(open_store(tmp_path / home, url=pg_url)) for home in ("a", "b"))
    a.open("job", Path("b.csv"), ROWS, via="live", model="m")
    return a, b


def test_a_live_lease_is_never_taken(pg_url: str, tmp_path: Path) -> None:
    """A holds both tools on live leases: B's claim gets nothing, however often it asks."""
    a, b = two_workers(pg_url, tmp_path)
    try:
        held = [a.claim("job", ["acme", "zed"]) for _ in ROWS]
        assert [i.slug for i in held if i is not None] == ["acme", "zed"]
        assert [b.claim("job", ["acme", "zed"]) for _ in range(3)] == [None, None, None]
        assert a.claim("job", ["acme", "zed"]) is None  # nor by its own holder, a second time
        assert b.leased_elsewhere("job") == 2
    finally:
        a.store.close()
        b.store.close()


def test_an_expired_lease_is_taken_over(pg_url: str, tmp_path: Path) -> None:
    """A's lease on one tool ran out (A died): B claims that tool, once, and not A's live one."""
    a, b = two_workers(pg_url, tmp_path)
    try:
        a.lease_s = -1.0  # leased already run out
        assert (item := a.claim("job", ["acme"])) is not None and item.slug == "acme"
        a.lease_s = 600.0
        assert (item := a.claim("job", ["zed"])) is not None and item.slug == "zed"
        taken = b.claim("job", ["acme", "zed"])
        assert taken is not None and (taken.slug, taken.attempts) == ("acme", 2)
        assert b.claim("job", ["acme", "zed"]) is None  # now B's live lease, and A's on zed
        owners = dict(query(pg_url, "SELECT slug, lease_owner FROM job_items"))
        assert owners == {"acme": b.owner, "zed": a.owner}
    finally:
        a.store.close()
        b.store.close()


@pytest.mark.e2e
def test_two_workers_call_each_persona_once_per_tool(
    fake: FakeAnthropic, tmp_path: Path, pg_url: str
) -> None:
    """Two live workers on one job: each tool's personas are each asked exactly once at the
    fake (no tool reviewed, or paid for, twice), and every tool is done once."""
    fake.latency = (0.02, 0.1)
    tools = 8
    backlog, _ = make_backlog(tmp_path, tools)
    procs = [worker(fake, pg_url, tmp_path / f"home{i}", backlog) for i in range(2)]
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=150))
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    logs = [(tmp_path / f"home{i}.log").read_text()[-1500:] for i in range(2)]
    assert codes == [0, 0], logs
    asked: Counter[tuple[str, str]] = Counter()
    for body in fake.message_requests:
        text = _request_text(body)
        tool, persona = SUBJECT.search(text), PERSONA_IN_TEXT.search(text)
        if tool and persona and body["_status"] == 200:
            asked[(tool.group(1).strip(), persona.group(1).lower())] += 1
    personas = {p for _, p in asked}
    assert len(personas) >= 3, asked
    assert {t for t, _ in asked} == {f"Tool {i:02d}" for i in range(tools)}
    assert set(asked.values()) == {1}, [k for k, n in asked.items() if n > 1]
    assert len(asked) == tools * len(personas)
    runs = query(pg_url, "SELECT slug FROM runs")
    assert len(runs) == len(set(runs)) == tools
    assert query(pg_url, "SELECT state, COUNT(*) FROM job_items GROUP BY state") == [
        ("done", tools)
    ]
