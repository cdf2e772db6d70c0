"""Storage: an SQLite index (runs, the file registry, URL fetches) beside one JSON record per run.

The JSON record is the truth; SQLite is the index that makes lookups fast and keeps the file_id
registry. Records are written atomically (temp file, fsync, rename) and never contain the API key.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from panel.errors import InputError
from panel.model.run import Run
from panel.store.caches import Caches
from panel.store.connection import Connection, SchemaTooNew
from panel.store.damage import DamagedIndex, check_index, is_damage
from panel.store.faults import note_home
from panel.store.lookup import RunLookup
from panel.store.records import BadRecord, RecordNotSaved, invalid_record, write_atomic
from panel.store.votes import VoteBook

DB_NAME = "panel.db"
# The schema this panel writes; a data home recorded by a newer one is refused, not guessed at.
SCHEMA_VERSION = 1
# A verdict's flag set, in a record's JSON (keys are never escaped there, whatever the text says).
_SUSPECTED = re.compile(rb'"injection_suspected"\s*:\s*true')
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    decision TEXT NOT NULL,
    label TEXT NOT NULL,
    mean_score REAL,
    parent_run_id TEXT,
    job_id TEXT,
    path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_slug ON runs (slug, created_at);
CREATE TABLE IF NOT EXISTS files (
    endpoint TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    mime TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (endpoint, sha256)
);
CREATE TABLE IF NOT EXISTS fetches (
    url TEXT PRIMARY KEY,
    final_url TEXT NOT NULL,
    status INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    sha256 TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS upload_claims (
    endpoint TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (endpoint, sha256)
);
CREATE TABLE IF NOT EXISTS votes (
    slug TEXT NOT NULL,
    voter TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('ship', 'skip')),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (slug, voter)
);
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);
"""


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; a WAL database in a directory we cannot write opens immutable."""
    for mode in ("mode=ro", "immutable=1"):
        db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            db.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
        except sqlite3.OperationalError as exc:
            db.close()
            if "no such table" in str(exc):
                raise InputError(f"{path}: not a panel database") from None
            continue
        return db
    raise InputError(f"{path}: cannot be opened for reading")


class ToolRow(BaseModel):
    """A tool as `panel list` shows it: its latest run, and how many runs it has."""

    slug: str
    name: str
    label: str
    decision: str
    mean_score: float | None
    created_at: str
    run_id: str
    runs: int
    injection_suspected: bool = False  # a persona of the latest run saw a document instruct it


class Store(RunLookup, VoteBook, Caches):
    """The data home: `panel.db` plus `<slug>/<run_id>.json` records.

    The storage interface: `panel.store.postgres.PgStore` keeps the same methods over a shared
    PostgreSQL database; `panel.store.open` picks one. Where only the SQL or the place of a record
    differs, PgStore overrides a class attribute or a `_` hook below, not the method.
    """

    db: Connection
    dialect = "sqlite"
    # What PgStore spells differently. The column that numbers the runs in the order they were
    # indexed (created_at has whole seconds: ties go by it).
    _seq = "rowid"
    # The index row of a run; its last column is what `_put_record` returned.
    _insert_run = "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    # What a failed `save_run` raises: writing the record's file, or indexing it.
    _write_errors: tuple[type[Exception], ...] = (OSError, sqlite3.Error)
    # Upserts: the row under the key is replaced by the new one.
    _upsert_vote = "INSERT OR REPLACE INTO votes VALUES (?,?,?,?)"
    _upsert_file = "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?)"
    _upsert_fetch = "INSERT OR REPLACE INTO fetches VALUES (?,?,?,?,?,?,?,?)"

    def __init__(self, home: Path, *, readonly: bool = False) -> None:
        self.home = home
        self.where = str(home)  # how messages name the store
        self.readonly = readonly
        check_index(home / DB_NAME)
        try:
            self._open(home, readonly)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise DamagedIndex(home / DB_NAME, str(exc)) from None
            raise

    def _open(self, home: Path, readonly: bool) -> None:
        if readonly:
            self.db = _connect_readonly(home / DB_NAME)
            self._check_version()
            return
        note_home(home)  # what a SQLite write fault, which names no file, is reported against
        home.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(home / DB_NAME, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        self.db = db
        self._check_version()
        db.execute(
            "INSERT INTO schema_version SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
            (SCHEMA_VERSION, datetime.now(UTC).isoformat(timespec="seconds")),
        )

    def _check_version(self) -> None:
        try:
            row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError:  # a read-only home from before versions existed
            return
        if row[0] is not None and row[0] > SCHEMA_VERSION:
            self.db.close()
            raise SchemaTooNew(self.where, row[0], SCHEMA_VERSION)

    def schema_version(self) -> int:
        row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def another(self) -> Store:
        """A second connection to the same store, for another thread."""
        return Store(self.home, readonly=self.readonly)

    @classmethod
    def existing(cls, home: Path, *, writable: bool = False) -> Store:
        """The store of a data home that has runs. Reading never creates a data home, and opens
        the database read-only (a shared, mounted home): no migration, no new file."""
        if not (home / DB_NAME).exists():
            raise InputError(f"no runs in {home} yet; start with `panel review FILE|URL`")
        return cls(home, readonly=not writable)

    def close(self) -> None:
        self.db.close()

    def connection_lost(self) -> bool:
        """Whether the connection is gone for good (a database server restarted): a file
        database's never is."""
        return False

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # runs ---------------------------------------------------------------------------------------

    def record_path(self, run: Run) -> Path:
        return self.home / run.tool.slug / f"{run.run_id}.json"

    def save_run(
        self,
        run: Run,
        *,
        also: Callable[[Connection], None] | None = None,
        name_check: bool = True,
    ) -> Path:
        """Write the record, then index it: an indexed run always has its whole record on disk
        (or, in a shared database, in its index row: written in the same transaction).

        `also` runs inside the indexing transaction (a batch marks its item done there), so a
        kill at any moment leaves both or neither. `name_check=False` files a run recorded
        elsewhere as it was recorded (`panel sync`): its name was checked where it was made.
        """
        # a name the user chose; a card's name joins its slug's tool
        if name_check and run.tool.name_given:
            self.check_name(run.tool.slug, run.tool.name)
        path = self.record_path(run)
        try:
            self._index(run, self._put_record(run, path), also)
        except self._write_errors as exc:
            raise RecordNotSaved(run, self.where, exc) from exc
        return path

    def _put_record(self, run: Run, path: Path) -> str:
        """Write the JSON record where this store keeps it; returns what its index row holds."""
        write_atomic(path, run.model_dump_json(indent=2) + "\n")
        return str(path.relative_to(self.home))

    def _index(self, run: Run, record: str, also: Callable[[Connection], None] | None) -> None:
        with self.transaction() as db:
            if also is not None:
                also(db)
            db.execute(
                self._insert_run,
                (
                    run.run_id,
                    run.tool.slug,
                    run.tool.name,
                    run.created_at,
                    run.model,
                    run.panel.decision,
                    run.panel.label,
                    run.panel.mean_score,
                    run.parent_run_id,
                    run.job_id,
                    record,
                ),
            )

    def load_run(self, run_id: str) -> Run:
        row = self.db.execute("SELECT path FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise InputError(f"no run {run_id!r} in {self.where}")
        path = self.home / row["path"]
        try:
            return Run.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadRecord(run_id, path, "missing") from None
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            reason = invalid_record(exc) if isinstance(exc, ValidationError) else str(exc)
            raise BadRecord(run_id, path, reason) from None

    def readable_runs(self, run_ids: Iterable[str], problems: list[str]) -> list[Run]:
        """The runs whose records can be read; each one that cannot is named in `problems`."""
        runs = []
        for run_id in run_ids:
            try:
                runs.append(self.load_run(run_id))
            except BadRecord as exc:
                problems.append(str(exc))
        return runs

    def tools(self) -> list[Any]:
        """Each tool's latest run, newest first."""
        return self.db.execute(
            """SELECT r.* FROM runs r
               WHERE r.rowid = (SELECT rowid FROM runs WHERE slug = r.slug
                                ORDER BY created_at DESC, rowid DESC LIMIT 1)
               ORDER BY r.created_at DESC, r.rowid DESC"""
        ).fetchall()

    def tool_rows(self) -> list[ToolRow]:
        """Each tool's latest run with its run count, most recently reviewed first."""
        counts = self.db.execute("SELECT slug, COUNT(*) AS n FROM runs GROUP BY slug").fetchall()
        runs = {r["slug"]: r["n"] for r in counts}
        return [
            ToolRow(
                slug=r["slug"],
                name=r["name"],
                label=r["label"],
                decision=r["decision"],
                mean_score=r["mean_score"],
                created_at=r["created_at"],
                run_id=r["run_id"],
                runs=runs[r["slug"]],
                injection_suspected=self.injection_suspected(r["run_id"]),
            )
            for r in self.tools()
        ]

    def injection_suspected(self, run_id: str) -> bool:
        """Whether a persona of the run reported a document that tried to instruct the panel.

        Read from the JSON record (the index has no column for it, so older data homes need no
        migration); an unreadable record says nothing, and `show` names its problem.
        """
        row = self.db.execute("SELECT path FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        try:  # most records say no in their text: only a `true` is worth parsing the record for
            if row is None or not _SUSPECTED.search((self.home / row["path"]).read_bytes()):
                return False
            run = self.load_run(run_id)
        except (OSError, BadRecord):
            return False
        return any(v.injection_suspected for v in run.verdicts)
