"""`panel db reindex`: rebuild a data home's SQLite index from its JSON run records.

The records are the truth and the index only makes them findable, so a damaged `panel.db` costs
nothing that the records cannot give back. The damaged file is renamed aside, never deleted; what
can still be read from it (votes, the file registry, fetches, jobs) is copied into the new index.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from panel.model.run import Run
from panel.store.damage import damage_of
from panel.store.sqlite import DB_NAME, Store

# The index's companion files, moved aside with it (a stale WAL must not replay into a new file).
COMPANIONS = ("-wal", "-shm")


@dataclass
class Reindexed:
    """What a reindex did, for the one-line report."""

    indexed: int = 0  # records added to the index
    already: int = 0  # records the index already had
    skipped: list[str] = field(default_factory=list)  # records that are not runs, named
    kept_aside: Path | None = None  # where the damaged index went
    salvaged: dict[str, int] = field(default_factory=dict)  # table -> rows copied from it


def damaged_reason(path: Path) -> str | None:
    """Why the index at `path` cannot be used, or None when it opens and reads whole."""
    reason = damage_of(path)
    if reason is not None or not path.exists():
        return reason
    if path.stat().st_size == 0:
        return "it is empty"
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            result = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result and result[0] == "ok" else f"quick_check: {result[0] if result else '?'}"


def set_aside(path: Path) -> Path:
    """Rename the index (and its WAL) to `panel.db.damaged-<UTC time>`; returns the new name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(target)
    for suffix in COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target


def salvage(store: Store, old: Path) -> dict[str, int]:
    """Copy every readable table but `runs` from the damaged index; a table that fails is left."""
    copied: dict[str, int] = {}
    try:
        src = sqlite3.connect(f"{old.resolve().as_uri()}?mode=ro", uri=True)
        tables = src.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    except sqlite3.DatabaseError:
        return copied
    with closing(src):
        for name, sql in tables:
            if name in ("runs", "schema_version") or not sql:
                continue
            try:
                rows = src.execute(f'SELECT * FROM "{name}"').fetchall()
                with store.transaction() as db:
                    db.execute(sql.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
                    marks = ",".join("?" * len(rows[0])) if rows else ""
                    if rows:
                        db.executemany(f'INSERT OR IGNORE INTO "{name}" VALUES ({marks})', rows)
            except sqlite3.DatabaseError:
                continue
            copied[name] = len(rows)
    return copied


def records(home: Path) -> list[tuple[Run, str]]:
    """Every readable run record under `home` with its path relative to it, oldest first."""
    found = []
    for path in home.glob("*/*.json"):
        with suppress(OSError, UnicodeDecodeError, ValidationError):
            found.append((Run.model_validate_json(path.read_text("utf-8")), path))
    found.sort(key=lambda pair: (pair[0].created_at, pair[0].run_id))
    return [(run, str(path.relative_to(home))) for run, path in found]


def reindex(home: Path) -> Reindexed:
    """Rebuild the index of `home`: a damaged one is set aside first, a whole one is completed.

    Every record on disk ends up indexed once; a record that is not a run is named, not indexed.
    """
    report = Reindexed()
    path = home / DB_NAME
    if damaged_reason(path) is not None:
        report.kept_aside = set_aside(path)
    store = Store(home)
    try:
        if report.kept_aside is not None:
            report.salvaged = salvage(store, report.kept_aside)
        readable = records(home)
        readable_paths = {rel for _, rel in readable}
        report.skipped = sorted(
            str(p.relative_to(home))
            for p in home.glob("*/*.json")
            if str(p.relative_to(home)) not in readable_paths
        )
        for run, rel in readable:
            if store.has_run(run.run_id):
                report.already += 1
                continue
            store._index(run, rel, None)  # the record is already where the index points
            report.indexed += 1
    finally:
        store.close()
    return report
