"""Pairwise comparisons beside the runs: one JSON record per comparison plus an index row.

As with runs, the record is the truth: on SQLite a file under `pairs/` in the data home and a
row in the `pairwise` table (created on first use), on PostgreSQL the record in its index row
(migration 4). Pages and `panel compare` read the latest one for two tools, in either order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from panel.errors import InputError, PanelError
from panel.model.pairwise import Pairwise
from panel.store.records import BadRecord, write_atomic
from panel.store.sqlite import Store

SQLITE_TABLE = """
CREATE TABLE IF NOT EXISTS pairwise (
    pair_id TEXT PRIMARY KEY,
    slug_a TEXT NOT NULL,
    slug_b TEXT NOT NULL,
    run_a TEXT NOT NULL,
    run_b TEXT NOT NULL,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    label TEXT NOT NULL,
    path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pairwise_by_pair ON pairwise (slug_a, slug_b, created_at);
"""


def save_pairwise(store: Store, record: Pairwise) -> None:
    """Write the record, then index it (an indexed comparison always has its record)."""
    row = (
        record.pair_id,
        record.a.slug,
        record.b.slug,
        record.a.run_id,
        record.b.run_id,
        record.created_at,
        record.model,
        record.decision.label,
    )
    try:
        if store.dialect == "sqlite":
            rel = f"pairs/{record.a.slug}--{record.b.slug}/{record.pair_id}.json"
            write_atomic(store.home / rel, record.model_dump_json(indent=2) + "\n")
            store.db.executescript(SQLITE_TABLE)
            with store.transaction() as db:
                db.execute("INSERT INTO pairwise VALUES (?,?,?,?,?,?,?,?,?)", (*row, rel))
        else:
            with store.transaction() as db:
                db.execute(
                    """INSERT INTO pairwise (pair_id, slug_a, slug_b, run_a, run_b, created_at,
                         model, label, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)""",
                    (*row, record.model_dump_json()),
                )
    except store._write_errors as exc:
        raise PairwiseNotSaved(record, store.where, exc) from exc


class PairwiseNotSaved(PanelError):
    """A paid comparison whose record could not be written: the caller prints it first."""

    exit_code = 1

    def __init__(self, record: Pairwise, where: str, cause: BaseException) -> None:
        self.record = record
        reason = getattr(cause, "strerror", None) or str(cause)
        super().__init__(
            f"comparison {record.pair_id} could not be recorded in {where} ({reason}); "
            "the verdict printed above is the only copy"
        )


def latest_pairwise(store: Store, slug_a: str, slug_b: str) -> Pairwise | None:
    """The newest comparison of these two tools, whichever was A; None if there is none."""
    try:
        row = store.db.execute(
            f"""SELECT pair_id, {_record(store)} FROM pairwise
                WHERE (slug_a = ? AND slug_b = ?) OR (slug_a = ? AND slug_b = ?)
                ORDER BY created_at DESC, {_seq(store)} DESC LIMIT 1""",
            (slug_a, slug_b, slug_b, slug_a),
        ).fetchone()
    except sqlite3.OperationalError:  # a home where nothing was ever compared: no table yet
        return None
    return None if row is None else _read(store, row)


def pair_ids(store: Store) -> list[str]:
    """Every comparison's id, in the order they were made (recorded, for ties)."""
    try:
        rows = store.db.execute(
            f"SELECT pair_id FROM pairwise ORDER BY created_at, {_seq(store)}"
        ).fetchall()
    except sqlite3.OperationalError:  # no table: nothing was ever compared there
        return []
    return [str(r["pair_id"]) for r in rows]


def load_pairwise(store: Store, pair_id: str) -> Pairwise:
    """One comparison by id; BadRecord when its record cannot be read."""
    try:
        row = store.db.execute(
            f"SELECT pair_id, {_record(store)} FROM pairwise WHERE pair_id = ?", (pair_id,)
        ).fetchone()
    except sqlite3.OperationalError:
        row = None
    if row is None:
        raise InputError(f"no comparison {pair_id!r} in {store.where}")
    return _read(store, row)


def _seq(store: Store) -> str:
    return "rowid" if store.dialect == "sqlite" else "seq"


def _record(store: Store) -> str:
    """The column that holds the record: its file's path on SQLite, the record on PostgreSQL."""
    return "path" if store.dialect == "sqlite" else "record::text AS record"


def _read(store: Store, row: Any) -> Pairwise:
    where: Path | str = store.where
    try:
        if store.dialect == "sqlite":
            where = path = store.home / row["path"]
            return Pairwise.model_validate_json(path.read_text(encoding="utf-8"))
        return Pairwise.model_validate_json(row["record"])
    except FileNotFoundError:
        reason = "missing"
    except (OSError, UnicodeDecodeError, ValidationError) as exc:
        reason = "not a comparison record" if isinstance(exc, ValidationError) else str(exc)
    raise BadRecord(row["pair_id"], where, reason, kind="comparison") from None
