"""Issue 10's storage faults: a full disk, a read-only home, missing and corrupt records."""

from __future__ import annotations

import errno
import json
import sqlite3
import stat
import tempfile
from pathlib import Path

import pytest

from panel.store import sqlite as store_module
from panel.store.records import BadRecord, RecordNotSaved
from panel.store.sqlite import Store
from tests.runs import make_run, verdict

PERSONAS = ("builder", "skeptic", "founder", "futurist")


def run(run_id: str, slug: str = "acme", created_at: str = "2026-11-25T13:00:00+00:00"):
    return make_run(run_id, [verdict(p, 80) for p in PERSONAS], slug=slug, created_at=created_at)


def home_with(tmp_path: Path, *runs: object) -> Path:
    home = tmp_path / "home"
    store = Store(home)
    for r in runs:
        store.save_run(r)  # type: ignore[arg-type]
    store.close()
    return home


def test_a_full_disk_keeps_a_copy_of_the_paid_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record cannot be written: RecordNotSaved carries the run and a 0600 copy in $TMPDIR."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)

    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module, "write_atomic", full)
    store = Store(tmp_path / "home")
    with pytest.raises(RecordNotSaved, match="No space left on device") as info:
        store.save_run(run("r1"))
    copy = info.value.fallback
    assert copy is not None and copy.parent == tmp_path
    assert json.loads(copy.read_text())["run_id"] == "r1"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert info.value.exit_code == 1 and f"a copy is at {copy}" in str(info.value)
    assert not store.has_run("r1")  # never indexed without its record


def test_reading_opens_the_database_read_only(tmp_path: Path) -> None:
    """show, history, list and diff never write: the connection itself refuses writes."""
    home = home_with(tmp_path, run("r1"))
    store = Store.existing(home)
    assert store.load_run("r1").run_id == "r1"
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.db.execute("DELETE FROM runs")


def test_reading_never_migrates_an_older_database(tmp_path: Path) -> None:
    """A home from before votes existed is read as it is: no table is created, no vote is shown."""
    home = home_with(tmp_path, run("r1"))
    db = sqlite3.connect(home / "panel.db")
    db.execute("DROP TABLE votes")
    db.commit()
    db.close()
    store = Store.existing(home)
    assert store.votes("acme").label == "No community votes yet"
    assert store.tool_rows()[0].slug == "acme"
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "votes" not in tables


@pytest.mark.parametrize(
    ("damage", "reason"),
    [("missing", "is missing"), ("garbage", "is not a run record"), ("binary", "is ")],
)
def test_a_bad_record_is_named(tmp_path: Path, damage: str, reason: str) -> None:
    home = home_with(tmp_path, run("r1"))
    path = home / "acme" / "r1.json"
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_text('{"not": "a run"}')
    else:
        path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BadRecord, match=reason) as info:
        Store.existing(home).load_run("r1")
    assert str(path) in str(info.value)


def test_readable_runs_go_on_past_a_bad_record(tmp_path: Path) -> None:
    home = home_with(
        tmp_path,
        run("r1", created_at="2026-11-25T13:00:00+00:00"),
        run("r2", created_at="2026-11-25T14:00:00+00:00"),
    )
    (home / "acme" / "r1.json").write_text("{")
    problems: list[str] = []
    runs = Store.existing(home).readable_runs(["r1", "r2"], problems)
    assert [r.run_id for r in runs] == ["r2"]
    assert len(problems) == 1 and "r1" in problems[0]
