"""A batch job in SQLite: one row per job, one per tool (item), and the Message Batches it created.

The job is what makes `panel batch` resumable. An item is `pending`, `running` (calls in flight),
`submitted` (its requests sit in a Message Batch), `done` (a run with a decision) or `failed`. An
item becomes `done` in the same transaction that indexes its run, so after a `kill -9` at any moment
a tool either has its run and is done, or has neither and is redone; it never gets two.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from panel.batch.backlog import BacklogRow
from panel.batch.batches import BatchTables
from panel.batch.items import Item, ItemState, _item, now
from panel.batch.leases import Leases
from panel.batch.locks import locked
from panel.config import env_number
from panel.errors import InputError, PanelError
from panel.model.run import Run
from panel.sources.documents import slugify
from panel.store.caches import claim_owner
from panel.store.connection import Connection
from panel.store.sqlite import Store

# Shared store: how long a worker's claim on an item lasts without a heartbeat (renewed every
# third of it), so a killed worker's items go to the others. `PANEL_LEASE_S` overrides it.
DEFAULT_LEASE_S = 60.0


class LeaseLost(PanelError):
    """Another worker took this item over (our lease ran out): our run is not recorded."""


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


def job_id_for(backlog: Path, name: str | None = None) -> str:
    """`--job NAME`, else one job per backlog file: its stem plus a short hash of its full path.

    The path, not the content: an editor who adds rows and runs the same command again continues
    the same job, and the tools already reviewed are not paid for twice.
    """
    if name:
        return slugify(name)
    digest = hashlib.sha256(str(backlog.resolve()).encode()).hexdigest()[:8]
    return f"{slugify(backlog.stem)}-{digest}"


class Jobs(Leases, BatchTables):
    """The job tables, on the store's connection: SQLite's, or the shared PostgreSQL database's
    (whose migrations create them). The SQL is written to run on both."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        self.postgres = store.dialect == "postgres"
        self.owner = claim_owner()  # this worker, in the items it leases (shared store)
        # a lease shorter than a second would be renewed in a busy loop and lost between beats
        self.lease_s = env_number("PANEL_LEASE_S", DEFAULT_LEASE_S, minimum=1)
        # reading (`panel jobs`) never creates or migrates anything
        if not store.readonly and not self.postgres:
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
                db.execute(  # workers starting together on a shared store: one creates it
                    """INSERT INTO jobs VALUES (?,?,?,?,?,?,?) ON CONFLICT (job_id)
                       DO UPDATE SET status = 'running', updated_at = excluded.updated_at""",
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
                         row = CASE WHEN job_items.state IN ('pending', 'failed')
                                    THEN excluded.row ELSE job_items.row END,
                         name = CASE WHEN job_items.state IN ('pending', 'failed')
                                     THEN excluded.name ELSE job_items.name END""",
                    (job_id, row.slug, position, row.name, json.dumps(row.to_dict()), stamp),
                )

    def finish(self, job_id: str, reason: str) -> str:
        """Record the job's status as this worker ends for `reason` (its outcome); returns it.

        One worker's end is not the job's: with another worker's live lease on an item the job
        stays `running`, and it is `complete` (or `failed`) only once no item is pending, running
        or submitted. The job's row is locked first, so two workers ending together write in turn
        and the second sees what the first committed.
        """
        with self.store.transaction() as db:
            if self.postgres:
                db.execute("SELECT 1 FROM jobs WHERE job_id = ? FOR UPDATE", (job_id,))
            row = db.execute(
                """SELECT
                     COALESCE(SUM(CASE WHEN state IN ('pending', 'running', 'submitted')
                                       THEN 1 ELSE 0 END), 0) AS unfinished,
                     COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed
                   FROM job_items WHERE job_id = ?""",
                (job_id,),
            ).fetchone()
            held = self.leased_elsewhere(job_id) if self.postgres else 0
            status = job_status(reason, left=row["unfinished"], failed=row["failed"], held=held)
            db.execute(
                "UPDATE jobs SET status = ?, updated_at = ? WHERE job_id = ?",
                (status, now(), job_id),
            )
        return status

    def overview(self) -> list[dict[str, Any]]:
        """Every job with its counts, open batches and spend, oldest first (for `panel jobs`)."""
        if (
            not self.postgres
            and not self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'"
            ).fetchone()
        ):
            return []
        rows = self.db.execute(
            """SELECT j.job_id, j.via, j.status, j.model, j.created_at, j.updated_at,
                 COALESCE(SUM(CASE WHEN i.state = 'done' THEN 1 ELSE 0 END), 0) AS done,
                 COALESCE(SUM(CASE WHEN i.state = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
                 COALESCE(SUM(CASE WHEN i.state IN ('pending', 'running', 'submitted')
                                   THEN 1 ELSE 0 END), 0) AS pending,
                 COALESCE(SUM(i.cost_usd), 0) AS cost_usd,
                 (SELECT COUNT(*) FROM job_batches b
                   WHERE b.job_id = j.job_id AND b.state = 'submitted') AS open_batches
               FROM jobs j LEFT JOIN job_items i ON i.job_id = j.job_id
               GROUP BY j.job_id ORDER BY j.created_at"""
        ).fetchall()
        jobs = [dict(r) for r in rows]
        for job in jobs:
            if job["status"] == "running" and not self.worked_on(job["job_id"]):
                # a worker killed or interrupted never wrote its end: say what is true now
                job["status"] = "submitted" if job["open_batches"] else "stopped"
        return jobs

    def worked_on(self, job_id: str) -> bool:
        """Whether a worker is on the job now: one holding its lock (this data home), or, on the
        shared store, a live lease on one of its items."""
        if self.postgres:
            return self.leased_elsewhere(job_id) > 0
        return locked(self.store.home, job_id)

    def job_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT job_id FROM jobs ORDER BY created_at")]

    # items --------------------------------------------------------------------------------------

    def items(self, job_id: str, slugs: Sequence[str] | None = None) -> list[Item]:
        rows = self.db.execute(
            "SELECT * FROM job_items WHERE job_id = ? ORDER BY position", (job_id,)
        ).fetchall()
        wanted = set(slugs) if slugs is not None else None
        return [_item(r) for r in rows if wanted is None or r["slug"] in wanted]

    def resume(self, job_id: str, *, retry_failed: bool) -> None:
        """Make a job runnable again after a stop or a crash.

        Tools whose calls were in flight are redone (the calls were never recorded as a run), and
        failed tools too when asked. A run record written but never indexed (a kill between the
        two) belongs to no one: it is removed so the redone tool ends with exactly one run.
        """
        if self.postgres:  # other workers may be running: only a dead worker's items are redone
            self.resume_shared(job_id, retry_failed=retry_failed)
            return
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

    def resume_shared(self, job_id: str, *, retry_failed: bool) -> None:
        """Items whose worker's lease ran out go back: to `submitted` when their batch requests
        exist (their results are collected again by whoever polls), else to `pending`. Items in a
        create that may have reached the API stay leased until `adopt_orphans` settles them."""
        with self.store.transaction() as db:
            db.execute(
                """UPDATE job_items SET lease_owner = NULL, lease_until = NULL, updated_at = ?,
                     state = CASE WHEN state = 'running' AND EXISTS (
                         SELECT 1 FROM job_requests r WHERE r.job_id = job_items.job_id
                           AND r.slug = job_items.slug AND r.run_id = job_items.run_id)
                       THEN 'submitted' ELSE 'pending' END
                   WHERE job_id = ? AND (state = 'running' AND COALESCE(lease_until, 0) < ?
                                         AND NOT EXISTS (
                                           SELECT 1 FROM job_requests c
                                           WHERE c.job_id = job_items.job_id
                                             AND c.slug = job_items.slug AND c.state = 'creating')
                                         OR state = 'failed' AND ?)""",
                (now(), job_id, time.time(), retry_failed),
            )

    def set_state(
        self, job_id: str, slug: str, state: ItemState, *, error: str | None = None
    ) -> None:
        held = " AND (lease_owner IS NULL OR lease_owner = ?)" if self.postgres else ""
        with self.store.transaction() as db:
            db.execute(
                """UPDATE job_items SET state = ?, error = ?, updated_at = ?,
                   attempts = attempts + (CASE WHEN ? = 'running' THEN 1 ELSE 0 END)
                   WHERE job_id = ? AND slug = ?"""
                + held,
                (state, error, now(), state, job_id, slug, *([self.owner] if held else [])),
            )

    def mark_run(self, job_id: str) -> Callable[[Connection, Run], None]:
        """What `review(also=...)` runs as the run is indexed: the item takes its outcome."""

        def also(db: Connection, run: Run) -> None:
            state = "done" if run.status == "complete" else "failed"
            error = None if state == "done" else f"panel incomplete ({run.panel.label})"
            usage = run.usage
            tokens = (
                usage.input_tokens
                + usage.output_tokens
                + usage.cache_creation_input_tokens
                + usage.cache_read_input_tokens
            )
            held = (
                " AND state <> 'done' AND (lease_owner IS NULL OR lease_owner = ?)"
                if self.postgres
                else ""
            )
            cur = db.execute(
                """UPDATE job_items SET state = ?, run_id = ?, error = ?, cost_usd = ?, tokens = ?,
                   updated_at = ? WHERE job_id = ? AND slug = ?"""
                + held,
                (state, run.run_id, error, run.cost_usd, tokens, now(), job_id, run.tool.slug)
                + ((self.owner,) if held else ()),
            )
            if self.postgres and cur.rowcount == 0:  # rolls back the run's indexing with it
                raise LeaseLost(f"{run.tool.slug}: another worker took this tool over")

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
                 SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END) AS done,
                 SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed,
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


def job_status(reason: str, *, left: int, failed: int, held: int) -> str:
    """A job's status from its items, when a worker ends for `reason` (its outcome).

    `running` while another worker holds items; `complete` or `failed` once nothing is left;
    otherwise the worker's reason (`budget`, `submitted`), or `stopped` when it ended with items
    no one holds (a worker on part of the backlog, or one that found nothing left to claim).
    """
    if held:
        return "running"
    if not left:
        return "failed" if failed else "complete"
    return "stopped" if reason in ("complete", "failed") else reason
