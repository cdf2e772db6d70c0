"""The shared store: the same interface as the SQLite `Store`, on a PostgreSQL database.

A team's runs, file registry, fetch records (with each page's extracted text), votes and batch
jobs live in one database; each run's JSON record is a `jsonb` column of its index row, so the
index and the record are written in one transaction and nothing depends on one machine's disk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from pydantic import ValidationError

from panel.errors import InputError
from panel.model.run import Run
from panel.store.caches import _alive
from panel.store.connection import Connection, SchemaTooNew, SchemaTooOld, redact, scrub
from panel.store.migrations import MIGRATIONS, SCHEMA_VERSION
from panel.store.records import BadRecord, invalid_record
from panel.store.sqlite import Store

# Any constant: the advisory lock that serialises concurrent upgrades of one database.
UPGRADE_LOCK = 0x70616E656C


class Row(dict[str, Any]):
    """A row readable by column name and by position, as `sqlite3.Row` is."""

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


def _rows(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    names = [c.name for c in cursor.description or ()]
    return lambda values: Row(zip(names, values, strict=True))


class PgConnection:
    """psycopg's connection behind the `Connection` surface: `?` placeholders become `%s`, so the
    portable SQL of `Jobs` and of `save_run(also=...)` runs on both stores."""

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        if not parameters:
            return self.conn.execute(sql)
        return self.conn.execute(_placeholders(sql), parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        cur = self.conn.cursor()
        cur.executemany(_placeholders(sql), list(parameters))
        return cur

    def executescript(self, sql: str, /) -> Any:
        return self.conn.execute(sql)  # no parameters: several statements in one go

    def close(self) -> None:
        self.conn.close()


def _placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class PgStore(Store):
    """The store of a team: `PANEL_DATABASE_URL=postgresql://...`."""

    dialect = "postgres"
    _seq = "seq"  # PostgreSQL has no rowid: a BIGSERIAL numbers the runs
    # the record itself goes in a jsonb column of the index row (see `_put_record`)
    _insert_run = """INSERT INTO runs (run_id, slug, name, created_at, model, decision, label,
                       mean_score, parent_run_id, job_id, record)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)"""
    _write_errors = (psycopg.Error,)
    # SQLite's INSERT OR REPLACE, as PostgreSQL says it
    _upsert_vote = """INSERT INTO votes VALUES (?, ?, ?, ?) ON CONFLICT (slug, voter)
                      DO UPDATE SET decision = excluded.decision, voted_at = excluded.voted_at"""
    _upsert_file = """INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)
                      ON CONFLICT (endpoint, sha256) DO UPDATE SET file_id = excluded.file_id,
                        filename = excluded.filename, mime = excluded.mime,
                        size_bytes = excluded.size_bytes, uploaded_at = excluded.uploaded_at"""
    _upsert_fetch = """INSERT INTO fetches VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (url) DO UPDATE SET final_url = excluded.final_url,
                         status = excluded.status, etag = excluded.etag,
                         last_modified = excluded.last_modified, sha256 = excluded.sha256,
                         fetched_at = excluded.fetched_at, document = excluded.document"""

    def __init__(
        self, url: str, home: Path, *, readonly: bool = False, migrating: bool = False
    ) -> None:
        self.url = url
        self.home = home
        self.where = redact(url)
        self.readonly = readonly
        try:
            conn = psycopg.connect(url, autocommit=True, row_factory=_rows, connect_timeout=30)
        except psycopg.Error as exc:
            text = scrub(str(exc), url).strip()
            reason = text.splitlines()[0] if text else type(exc).__name__
            raise InputError(f"{self.where}: cannot connect ({reason})") from None
        self.conn = conn
        self.db = PgConnection(conn)
        found = self.schema_version()
        if found > SCHEMA_VERSION:
            conn.close()
            raise SchemaTooNew(self.where, found, SCHEMA_VERSION)
        if migrating:
            return
        if found == 0 and not readonly:  # a new, empty database: set it up, as SQLite does
            self.upgrade()
        elif found == 0:
            conn.close()
            raise InputError(f"no runs in {self.where} yet; start with `panel review FILE|URL`")
        elif found < SCHEMA_VERSION:
            conn.close()
            raise SchemaTooOld(self.where, found, SCHEMA_VERSION)

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT to_regclass('schema_version') AS t").fetchone()
        if row is None or row["t"] is None:
            return 0
        got = self.conn.execute("SELECT MAX(version) AS v FROM schema_version").fetchone()
        return int(got["v"] or 0) if got else 0

    def upgrade(self) -> tuple[int, int]:
        """Apply the missing migrations, each with its version row; returns (before, after).

        Under an advisory lock, so workers started together on a new database migrate it once.
        """
        # a session lock, taken before the transaction: the transaction then starts after the
        # other upgrade committed, and sees its tables
        self.conn.execute("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))
        try:
            with self.conn.transaction():
                before = self.schema_version()
                if before > SCHEMA_VERSION:
                    raise SchemaTooNew(self.where, before, SCHEMA_VERSION)
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                for number, sql in enumerate(MIGRATIONS[before:], start=before + 1):
                    self.conn.execute(sql)
                    self.conn.execute("INSERT INTO schema_version VALUES (%s, %s)", (number, now()))
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))
        return before, SCHEMA_VERSION

    def another(self) -> Store:
        return PgStore(self.url, self.home, readonly=self.readonly)

    def connection_lost(self) -> bool:
        return bool(self.conn.closed or self.conn.broken)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.conn.transaction():
            yield self.db

    # runs ---------------------------------------------------------------------------------------

    def _put_record(self, run: Run, path: Path) -> str:
        """Nothing on disk: the record goes into its index row, in the indexing transaction."""
        return run.model_dump_json()

    def load_run(self, run_id: str) -> Run:
        row = self.conn.execute(
            "SELECT record::text AS record FROM runs WHERE run_id = %s", (run_id,)
        ).fetchone()
        if row is None:
            raise InputError(f"no run {run_id!r} in {self.where}")
        try:
            return Run.model_validate_json(row["record"])
        except ValidationError as exc:
            raise BadRecord(run_id, f"{self.where} runs.record", invalid_record(exc)) from None

    def run_ids_starting(self, prefix: str) -> list[str]:
        if not prefix:
            return []
        rows = self.conn.execute(
            "SELECT run_id FROM runs WHERE starts_with(run_id, %s) ORDER BY created_at, seq",
            (prefix,),
        ).fetchall()
        return [r["run_id"] for r in rows]

    def tools(self) -> list[Any]:
        return self.conn.execute(
            """SELECT run_id, slug, name, created_at, model, decision, label, mean_score,
                 parent_run_id, job_id FROM (
                 SELECT DISTINCT ON (slug) * FROM runs ORDER BY slug, created_at DESC, seq DESC
               ) latest ORDER BY created_at DESC, seq DESC"""
        ).fetchall()

    def injection_suspected(self, run_id: str) -> bool:
        row = self.conn.execute(
            """SELECT jsonb_path_exists(record,
                 '$.verdicts[*] ? (@.injection_suspected == true)') AS hit
               FROM runs WHERE run_id = %s""",
            (run_id,),
        ).fetchone()
        return bool(row and row["hit"])

    # the file registry: shared by the team, one upload per content and endpoint -----------------

    def claim_upload(self, endpoint: str, sha256: str, owner: str, lease_s: float) -> str:
        """As the SQLite store's: the primary key on (endpoint, sha256) makes the claim unique
        across every worker of the team; the row lock decides a race for an expired one."""
        now_s = time.time()
        with self.conn.transaction():
            made = self.conn.execute(
                """INSERT INTO upload_claims VALUES (%s, %s, %s, %s)
                   ON CONFLICT (endpoint, sha256) DO NOTHING RETURNING owner""",
                (endpoint, sha256, owner, now_s + lease_s),
            ).fetchone()
            if made is not None:
                return "claimed"
            row = self.conn.execute(
                """SELECT owner, expires_at FROM upload_claims
                   WHERE endpoint = %s AND sha256 = %s FOR UPDATE""",
                (endpoint, sha256),
            ).fetchone()
            if row is None:  # released between the two statements: try again
                return "busy"
            mine = row["owner"] == owner
            if not mine and row["expires_at"] > now_s and _alive(row["owner"]):
                return "busy"
            self.conn.execute(
                """UPDATE upload_claims SET owner = %s, expires_at = %s
                   WHERE endpoint = %s AND sha256 = %s""",
                (owner, now_s + lease_s, endpoint, sha256),
            )
        return "claimed" if mine else "taken_over"

    # URL fetches and the extracted text of each page ------------------------------------------

    def blob(self, sha256: str) -> bytes | None:
        """In the database, so a teammate's rerun of the URL gets a 304 and reuses the upload."""
        row = self.conn.execute("SELECT data FROM blobs WHERE sha256 = %s", (sha256,)).fetchone()
        return bytes(row["data"]) if row else None

    def keep_blob(self, sha256: str, data: bytes) -> None:
        self.conn.execute(
            "INSERT INTO blobs VALUES (%s, %s) ON CONFLICT (sha256) DO NOTHING", (sha256, data)
        )
