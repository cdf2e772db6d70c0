"""`panel sync` when a store fails under it: the target's connection lost mid-copy, a source
whose database is damaged past its header. One line naming the store, and a rerun finishes."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest

from panel.store.postgres import PgStore
from panel.store.sqlite import DB_NAME, Store
from panel.store.sync import SyncStopped, sync_stores
from tests.test_sync import Keep, counts, one_line_error, panel, snapshot
from tests.test_sync import home as home  # the fixtures, under their own names
from tests.test_sync import keep as keep


def test_a_target_lost_mid_copy_is_one_line_and_a_rerun_finishes(
    keep: Keep, home: Path, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared database drops the connection after the first run is copied: the sync stops
    naming that store and saying what to do (not "a bug in panel"); the next sync copies the
    rest, and nothing twice."""
    killer = keep(PgStore(pg_url, home))
    target = keep(PgStore(pg_url, home))
    save_run = PgStore.save_run
    saved: list[str] = []

    def then_cut(self: PgStore, run, **kwargs):  # type: ignore[no-untyped-def]
        if saved:
            pid = self.db.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
            killer.db.execute("SELECT pg_terminate_backend(?)", (pid,))
        saved.append(run.run_id)
        return save_run(self, run, **kwargs)

    monkeypatch.setattr(PgStore, "save_run", then_cut)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the failed save's copy lands here
    source = keep(Store.existing(home))
    with pytest.raises(SyncStopped) as stopped:
        sync_stores(source, target)
    message = str(stopped.value)
    assert target.where in message and "run `panel sync` again" in message
    assert "\n" not in message and "administrator command" in message
    monkeypatch.undo()
    again = sync_stores(source, keep(PgStore(pg_url, home)))
    assert counts(again)["runs"] == (2, 1)
    assert snapshot(keep(PgStore(pg_url, home, readonly=True))) == snapshot(source)


def damage_runs_table(home: Path) -> None:
    """Overwrite the first page of the runs table: the header is whole, the rows are not."""
    db = sqlite3.connect(home / DB_NAME)
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    with (home / DB_NAME).open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xa5" * page_size)


def test_a_source_damaged_past_its_header_is_named(home: Path, tmp_path: Path) -> None:
    """A page of the source's database overwritten: the one line names the source's file (not a
    bare panel.db, which could be either side) and how to rebuild it."""
    damage_runs_table(home)
    proc = panel("sync", "--from", str(home), "--to", str(tmp_path / "other"))
    one_line_error(proc, f"{home / DB_NAME}: the run index is damaged")
    assert "panel db reindex" in proc.stderr
