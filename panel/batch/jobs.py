"""A batch job in SQLite: one row per job, one per tool (item), and the Message Batches it created.

The job is what makes `panel batch` resumable. An item is `pending`, `running` (calls in flight),
`submitted` (its requests sit in a Message Batch), `done` (a run with a decision) or `failed`. An
item becomes `done` in the same transaction that indexes its run, so after a `kill -9` at any moment
a tool either has its run and is done, or has neither and is redone; it never gets two.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from panel.batch.backlog import BacklogRow
from panel.errors import InputError
from panel.model.run import Run
from panel.sources.documents import slugify
from panel.store.sqlite import Store

ItemState = Literal["pending", "running", "submitted", "done", "failed"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    backlog TEXT NOT NULL,
    via TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_items (
    job_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    row TEXT NOT NULL,
    state TEXT NOT NULL,
    run_id TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    tokens INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job_id, slug)
);
CREATE TABLE IF NOT EXISTS job_batches (
    batch_id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    requests INTEGER NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_requests (
    custom_id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    run_id TEXT NOT NULL,
    persona TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT
);
CREATE INDEX IF NOT EXISTS job_requests_by_item ON job_requests (job_id, slug, run_id);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def job_id_for(backlog: Path, name: str | None = None) -> str:
    """`--job NAME`, else one job per backlog file: its stem plus a short hash of its full path.

    The path, not the content: an editor who adds rows and runs the same command again continues
    the same job, and the tools already reviewed are not paid for twice.
    """
    if name:
        return slugify(name)
    digest = hashlib.sha256(str(backlog.resolve()).encode()).hexdigest()[:8]
    return f"{slugify(backlog.stem)}-{digest}"


@dataclass
class Item:
    slug: str
    position: int
    name: str
    row: BacklogRow
    state: ItemState
    run_id: str | None
    error: str | None
    attempts: int
    cost_usd: float | None
    tokens: int


class Jobs:
    """The job tables, on the data home's SQLite connection."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        if not store.readonly:  # reading (`panel jobs`) never creates or migrates anything
            self.db.executescript(SCHEMA)

    # jobs ---------------------------------------------------------------------------------------

    def get(self, job_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()

    def open(
        self, job_id: str, backlog: Path, rows: Sequence[BacklogRow], *, via: str, model: str
    ) -> None:
        """Create the job or continue it: new rows join as pending, known ones keep their state."""
        existing = self.get(job_id)
        if existing is not None and existing["via"] != via:
            raise InputError(
                f"job {job_id} was started with --via {existing['via']}; "
                f"run it again with --via {existing['via']} (or give another --job NAME)"
            )
        stamp = now()
        with self.store.transaction() as db:
            if existing is None:
                db.execute(
                    "INSERT INTO jobs VALUES (?,?,?,?,?,?,?)",
                    (job_id, str(backlog), via, model, stamp, stamp, "running"),
                )
            else:
                db.execute(
                    "UPDATE jobs SET status = 'running', updated_at = ? WHERE job_id = ?",
                    (stamp, job_id),
                )
            for position, row in enumerate(rows):
                db.execute(
                    """INSERT INTO job_items (job_id, slug, position, name, row, state, updated_at)
                       VALUES (?,?,?,?,?,'pending',?)
                       ON CONFLICT (job_id, slug) DO UPDATE SET position = excluded.position,
                         row = CASE WHEN state IN ('pending', 'failed')
                                    THEN excluded.row ELSE row END,
                         name = CASE WHEN state IN ('pending', 'failed')
                                     THEN excluded.name ELSE name END""",
                    (job_id, row.slug, position, row.name, json.dumps(row.to_dict()), stamp),
                )

    def finish(self, job_id: str, status: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE jobs SET status = ?, updated_at = ? WHERE job_id = ?",
                (status, now(), job_id),
            )

    def overview(self) -> list[dict[str, Any]]:
        """Every job with its counts, open batches and spend, oldest first (for `panel jobs`)."""
        if not self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'"
        ).fetchone():
            return []
        rows = self.db.execute(
            """SELECT j.job_id, j.via, j.status, j.model, j.created_at, j.updated_at,
                 COALESCE(SUM(i.state = 'done'), 0) AS done,
                 COALESCE(SUM(i.state = 'failed'), 0) AS failed,
                 COALESCE(SUM(i.state IN ('pending', 'running', 'submitted')), 0) AS pending,
                 COALESCE(SUM(i.cost_usd), 0) AS cost_usd,
                 (SELECT COUNT(*) FROM job_batches b
                   WHERE b.job_id = j.job_id AND b.state = 'submitted') AS open_batches
               FROM jobs j LEFT JOIN job_items i ON i.job_id = j.job_id
               GROUP BY j.job_id ORDER BY j.created_at"""
        ).fetchall()
        return [dict(r) for r in rows]

    def job_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT job_id FROM jobs ORDER BY created_at")]

    # items --------------------------------------------------------------------------------------

    def items(self, job_id: str, slugs: Sequence[str] | None = None) -> list[Item]:
        rows = self.db.execute(
            "SELECT * FROM job_items WHERE job_id = ? ORDER BY position", (job_id,)
        ).fetchall()
        wanted = set(slugs) if slugs is not None else None
        return [
            Item(
                r["slug"],
                r["position"],
                r["name"],
                BacklogRow.from_dict(json.loads(r["row"])),
                r["state"],
                r["run_id"],
                r["error"],
                r["attempts"],
                r["cost_usd"],
                r["tokens"],
            )
            for r in rows
            if wanted is None or r["slug"] in wanted
        ]

    def resume(self, job_id: str, *, retry_failed: bool) -> None:
        """Make a job runnable again after a stop or a crash.

        Tools whose calls were in flight are redone (the calls were never recorded as a run), and
        failed tools too when asked. A run record written but never indexed (a kill between the
        two) belongs to no one: it is removed so the redone tool ends with exactly one run.
        """
        states = ("running", "failed") if retry_failed else ("running",)
        marks = ",".join("?" * len(states))
        redo = self.db.execute(
            f"SELECT slug FROM job_items WHERE job_id = ? AND state IN ({marks})", (job_id, *states)
        ).fetchall()
        for row in redo:
            self.drop_orphans(job_id, row["slug"])
        with self.store.transaction() as db:
            db.execute(
                f"UPDATE job_items SET state = 'pending', updated_at = ? "
                f"WHERE job_id = ? AND state IN ({marks})",
                (now(), job_id, *states),
            )

    def drop_orphans(self, job_id: str, slug: str) -> None:
        folder = self.store.home / slug
        if not folder.is_dir():
            return
        indexed = set(self.store.run_ids(slug))
        for path in folder.glob("*.json"):
            if path.stem in indexed:
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if data.get("job_id") == job_id:
                path.unlink(missing_ok=True)

    def set_state(
        self, job_id: str, slug: str, state: ItemState, *, error: str | None = None
    ) -> None:
        with self.store.transaction() as db:
            db.execute(
                """UPDATE job_items SET state = ?, error = ?, updated_at = ?,
                   attempts = attempts + (CASE WHEN ? = 'running' THEN 1 ELSE 0 END)
                   WHERE job_id = ? AND slug = ?""",
                (state, error, now(), state, job_id, slug),
            )

    def mark_run(self, job_id: str) -> Callable[[sqlite3.Connection, Run], None]:
        """What `review(also=...)` runs as the run is indexed: the item takes its outcome."""

        def also(db: sqlite3.Connection, run: Run) -> None:
            state = "done" if run.status == "complete" else "failed"
            error = None if state == "done" else f"panel incomplete ({run.panel.label})"
            usage = run.usage
            tokens = (
                usage.input_tokens
                + usage.output_tokens
                + usage.cache_creation_input_tokens
                + usage.cache_read_input_tokens
            )
            db.execute(
                """UPDATE job_items SET state = ?, run_id = ?, error = ?, cost_usd = ?, tokens = ?,
                   updated_at = ? WHERE job_id = ? AND slug = ?""",
                (state, run.run_id, error, run.cost_usd, tokens, now(), job_id, run.tool.slug),
            )

        return also

    def counts(self, job_id: str) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT state, COUNT(*) AS n FROM job_items WHERE job_id = ? GROUP BY state", (job_id,)
        ).fetchall()
        return {r["state"]: r["n"] for r in rows}

    def spent(self, job_id: str) -> tuple[float, int]:
        row = self.db.execute(
            """SELECT COALESCE(SUM(cost_usd), 0), COALESCE(SUM(tokens), 0)
               FROM job_items WHERE job_id = ?""",
            (job_id,),
        ).fetchone()
        return float(row[0]), int(row[1])

    def mean_cost(self, job_id: str) -> float | None:
        row = self.db.execute(
            "SELECT AVG(cost_usd) FROM job_items WHERE job_id = ? AND cost_usd IS NOT NULL",
            (job_id,),
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def snapshot(self, job_id: str) -> dict[str, float]:
        """For the progress bar: counts by state, tokens and spend, in one query."""
        row = self.db.execute(
            """SELECT COUNT(*) AS total,
                 SUM(state = 'done') AS done, SUM(state = 'failed') AS failed,
                 COALESCE(SUM(tokens), 0) AS tokens, COALESCE(SUM(cost_usd), 0) AS cost
               FROM job_items WHERE job_id = ?""",
            (job_id,),
        ).fetchone()
        return {k: float(row[k] or 0) for k in ("total", "done", "failed", "tokens", "cost")}

    def runs(self, job_id: str) -> list[sqlite3.Row]:
        """The job's indexed runs, in backlog order."""
        return self.db.execute(
            """SELECT r.*, i.position, i.state FROM job_items i JOIN runs r ON r.run_id = i.run_id
               WHERE i.job_id = ? ORDER BY i.position""",
            (job_id,),
        ).fetchall()

    # Message Batches ----------------------------------------------------------------------------

    def record_intent(self, job_id: str, requests: Sequence[dict[str, str]]) -> str:
        """Before a create: which requests are about to go, so that a crash between the API
        creating the batch and us recording its id can be recognised (and adopted) on resume."""
        pending_id = f"creating-{uuid.uuid4().hex}"
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO job_batches VALUES (?,?,?,?, 'creating')",
                (pending_id, job_id, now(), len(requests)),
            )
            db.executemany(
                "INSERT INTO job_requests VALUES (?,?,?,?,?,?, 'creating', NULL)",
                [
                    (r["custom_id"], job_id, pending_id, r["slug"], r["run_id"], r["persona"])
                    for r in requests
                ],
            )
        return pending_id

    def intents(self, job_id: str) -> list[tuple[str, str, list[dict[str, str]]]]:
        """Creates that were started but never recorded: (pending id, started at, requests)."""
        found = []
        for pending_id, created_at in self.db.execute(
            "SELECT batch_id, created_at FROM job_batches WHERE job_id = ? AND state = 'creating'"
            " ORDER BY created_at",
            (job_id,),
        ).fetchall():
            rows = self.db.execute(
                "SELECT custom_id, slug, run_id, persona FROM job_requests WHERE batch_id = ?",
                (pending_id,),
            ).fetchall()
            found.append((pending_id, created_at, [dict(r) for r in rows]))
        return found

    def forget_intent(self, pending_id: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM job_requests WHERE batch_id = ?", (pending_id,))
            db.execute("DELETE FROM job_batches WHERE batch_id = ?", (pending_id,))

    def known_batches(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT batch_id FROM job_batches")}

    def record_batch(
        self,
        job_id: str,
        batch_id: str,
        requests: Sequence[dict[str, str]],
        *,
        replaces: str | None = None,
    ) -> None:
        """Called the moment a batch exists: its id, and which item and persona each request is.

        `replaces` is the intent recorded before the create; it goes in the same transaction.
        """
        stamp = now()
        with self.store.transaction() as db:
            if replaces is not None:
                db.execute("DELETE FROM job_requests WHERE batch_id = ?", (replaces,))
                db.execute("DELETE FROM job_batches WHERE batch_id = ?", (replaces,))
            db.execute(
                "INSERT INTO job_batches VALUES (?,?,?,?, 'submitted')",
                (batch_id, job_id, stamp, len(requests)),
            )
            db.executemany(
                "INSERT INTO job_requests VALUES (?,?,?,?,?,?, 'submitted', NULL)",
                [
                    (r["custom_id"], job_id, batch_id, r["slug"], r["run_id"], r["persona"])
                    for r in requests
                ],
            )
            slugs = sorted({(r["slug"], r["run_id"]) for r in requests})
            db.executemany(
                """UPDATE job_items SET state = 'submitted', run_id = ?, updated_at = ?
                   WHERE job_id = ? AND slug = ?""",
                [(run_id, stamp, job_id, slug) for slug, run_id in slugs],
            )

    def open_batches(self, job_id: str) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                """SELECT batch_id FROM job_batches WHERE job_id = ? AND state = 'submitted'
                   ORDER BY created_at""",
                (job_id,),
            )
        ]

    def collected(self, job_id: str, slug: str, run_id: str) -> bool:
        """Whether every batch request of this item has its result stored (none still out)."""
        row = self.db.execute(
            """SELECT COUNT(*) FROM job_requests
               WHERE job_id = ? AND slug = ? AND run_id = ? AND state = 'submitted'""",
            (job_id, slug, run_id),
        ).fetchone()
        return int(row[0]) == 0

    def batch_count(self, job_id: str) -> int:
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM job_batches WHERE job_id = ?", (job_id,)
            ).fetchone()[0]
        )

    def collect_batch(
        self, batch_id: str, results: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        """Store every result of an ended batch (custom_id, state, result) and close the batch."""
        with self.store.transaction() as db:
            db.executemany(
                "UPDATE job_requests SET state = ?, result = ? WHERE custom_id = ?",
                [(state, json.dumps(result), cid) for cid, state, result in results],
            )
            db.execute("UPDATE job_batches SET state = 'collected' WHERE batch_id = ?", (batch_id,))

    def requests_of(self, job_id: str, slug: str, run_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM job_requests WHERE job_id = ? AND slug = ? AND run_id = ?",
            (job_id, slug, run_id),
        ).fetchall()

    def retry_counts(self, job_id: str) -> dict[str, int]:
        """Batch results that had to be redone live, by what came back."""
        rows = self.db.execute(
            """SELECT json_extract(result, '$.type') AS kind, COUNT(*) AS n FROM job_requests
               WHERE job_id = ? AND state = 'retry' GROUP BY kind""",
            (job_id,),
        ).fetchall()
        return {r["kind"]: r["n"] for r in rows}


@contextmanager
def exclusive(store: Store, job_id: str) -> Iterator[None]:
    """One process per job: a second `panel batch` of the same job stops instead of racing."""
    folder = store.home / ".jobs"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{job_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"job {job_id} is already running in another process") from None
        yield
    finally:
        os.close(fd)
