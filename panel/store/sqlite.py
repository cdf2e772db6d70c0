"""Storage: an SQLite index (runs, the file registry, URL fetches) beside one JSON record per run.

The JSON record is the truth; SQLite is the index that makes lookups fast and keeps the file_id
registry. Records are written atomically (temp file, fsync, rename) and never contain the API key.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from panel.errors import InputError
from panel.model.run import Run
from panel.model.votes import Votes
from panel.sources.documents import slugify

DB_NAME = "panel.db"
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
CREATE TABLE IF NOT EXISTS votes (
    slug TEXT NOT NULL,
    voter TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('ship', 'skip')),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (slug, voter)
);
"""


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


def new_run_id() -> str:
    """Sortable by time, unique without coordination: `20261125T130501-3f9a2c`."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def write_atomic(path: Path, text: str) -> None:
    """Write `text` so that `path` is either the old file or the whole new one, even after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """The data home: `panel.db` plus `<slug>/<run_id>.json` records."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(home / DB_NAME, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    @classmethod
    def existing(cls, home: Path) -> Store:
        """The store of a data home that has runs; reading never creates a data home."""
        if not (home / DB_NAME).exists():
            raise InputError(f"no runs in {home} yet; start with `panel review FILE|URL`")
        return cls(home)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
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
        self, run: Run, *, also: Callable[[sqlite3.Connection], None] | None = None
    ) -> Path:
        """Write the record, then index it: an indexed run always has its whole record on disk.

        `also` runs inside the indexing transaction (a batch marks its item done there), so a
        kill at any moment leaves both or neither.
        """
        path = self.record_path(run)
        write_atomic(path, run.model_dump_json(indent=2) + "\n")
        with self.transaction() as db:
            if also is not None:
                also(db)
            db.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
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
                    str(path.relative_to(self.home)),
                ),
            )
        return path

    def load_run(self, run_id: str) -> Run:
        row = self.db.execute("SELECT path FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise InputError(f"no run {run_id!r} in {self.home}")
        return Run.model_validate_json((self.home / row["path"]).read_text(encoding="utf-8"))

    def run_ids(self, slug: str) -> list[str]:
        rows = self.db.execute(
            # created_at has whole seconds: ties go to the order the runs were recorded in
            "SELECT run_id FROM runs WHERE slug = ? ORDER BY created_at, rowid",
            (slug,),
        ).fetchall()
        return [r["run_id"] for r in rows]

    def latest_run_id(self, slug: str) -> str | None:
        ids = self.run_ids(slug)
        return ids[-1] if ids else None

    def has_run(self, run_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row is not None

    def slug_of(self, tool: str) -> str | None:
        """The stored slug a TOOL argument names: the slug itself, or a name slugified."""
        keys = [tool]
        with suppress(InputError):  # nothing to slugify: only the literal argument can match
            keys.append(slugify(tool))
        return next((key for key in keys if self.run_ids(key)), None)

    def run_for(self, ref: str) -> Run:
        """A RUN_ID, or a TOOL meaning its latest run; an unknown one is a one-line error."""
        if self.has_run(ref):
            return self.load_run(ref)
        return self.load_run(self.runs_of(ref)[-1])

    def runs_of(self, tool: str) -> list[str]:
        """The run ids of a TOOL argument, oldest first; an unknown tool is a one-line error."""
        slug = self.slug_of(tool)
        if slug is None:
            raise InputError(
                f"no runs of {tool!r} in {self.home}; see `panel list` for the tools reviewed"
            )
        return self.run_ids(slug)

    def tools(self) -> list[sqlite3.Row]:
        """Each tool's latest run, newest first."""
        return self.db.execute(
            """SELECT r.* FROM runs r
               WHERE r.rowid = (SELECT rowid FROM runs WHERE slug = r.slug
                                ORDER BY created_at DESC, rowid DESC LIMIT 1)
               ORDER BY r.created_at DESC, r.rowid DESC"""
        ).fetchall()

    def tool_rows(self) -> list[ToolRow]:
        """Each tool's latest run with its run count, most recently reviewed first."""
        return [
            ToolRow(
                slug=r["slug"],
                name=r["name"],
                label=r["label"],
                decision=r["decision"],
                mean_score=r["mean_score"],
                created_at=r["created_at"],
                run_id=r["run_id"],
                runs=len(self.run_ids(r["slug"])),
            )
            for r in self.tools()
        ]

    # community votes --------------------------------------------------------------------------

    def set_vote(self, slug: str, voter: str, decision: Literal["ship", "skip"]) -> None:
        """One vote per voter per tool: voting again changes it."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO votes VALUES (?,?,?,?)",
                (slug, voter, decision, datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def clear_vote(self, slug: str, voter: str) -> bool:
        """Remove a voter's vote; False when there was none."""
        with self.transaction() as db:
            cur = db.execute("DELETE FROM votes WHERE slug = ? AND voter = ?", (slug, voter))
        return cur.rowcount > 0

    def votes(self, slug: str) -> Votes:
        rows = self.db.execute(
            "SELECT decision, COUNT(*) AS n FROM votes WHERE slug = ? GROUP BY decision", (slug,)
        ).fetchall()
        return Votes(**{r["decision"]: r["n"] for r in rows})

    # the file registry --------------------------------------------------------------------------

    def file_id(self, endpoint: str, sha256: str) -> str | None:
        row = self.db.execute(
            "SELECT file_id FROM files WHERE endpoint = ? AND sha256 = ?", (endpoint, sha256)
        ).fetchone()
        return row["file_id"] if row else None

    def remember_file(
        self, endpoint: str, sha256: str, file_id: str, filename: str, mime: str, size: int
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?)",
                (endpoint, sha256, file_id, filename, mime, size, datetime.now(UTC).isoformat()),
            )

    # URL fetches --------------------------------------------------------------------------------

    def last_fetch(self, url: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM fetches WHERE url = ?", (url,)).fetchone()
        return dict(row) if row else None

    def remember_fetch(self, info: dict[str, Any], document_json: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO fetches VALUES (?,?,?,?,?,?,?,?)",
                (
                    info["url"],
                    info["final_url"],
                    info["status"],
                    info.get("etag"),
                    info.get("last_modified"),
                    info["sha256"],
                    info["fetched_at"],
                    document_json,
                ),
            )


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
