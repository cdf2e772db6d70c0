"""The Message Batches of a job: intents recorded before a create, batches and their requests.

A mixin of `Jobs`, apart from the job's items: what makes a batch job survive a crash between the
API creating a batch and us recording it, and collect each ended batch's results exactly once.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from panel.batch.items import Item, _item, now
from panel.store.connection import Connection
from panel.store.sqlite import Store


class BatchTables:
    """The `job_batches` and `job_requests` tables, on the store's connection."""

    store: Store
    db: Connection
    postgres: bool
    owner: str
    lease_s: float

    if TYPE_CHECKING:

        def items(self, job_id: str, slugs: Sequence[str] | None = None) -> list[Item]: ...

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
        for intent in self.db.execute(
            "SELECT batch_id, created_at FROM job_batches WHERE job_id = ? AND state = 'creating'"
            " ORDER BY created_at",
            (job_id,),
        ).fetchall():
            pending_id, created_at = intent["batch_id"], intent["created_at"]
            rows = self.db.execute(
                "SELECT custom_id, slug, run_id, persona FROM job_requests WHERE batch_id = ?",
                (pending_id,),
            ).fetchall()
            found.append((pending_id, created_at, [dict(r) for r in rows]))
        return found

    def forget_intent(self, pending_id: str) -> None:
        """A create that never reached the API: its tools are pending again."""
        with self.store.transaction() as db:
            if self.postgres:  # the dead worker's lease on them ends with it
                db.execute(
                    """UPDATE job_items SET state = 'pending', lease_owner = NULL,
                         lease_until = NULL
                       WHERE state = 'running' AND (job_id, slug) IN (
                         SELECT job_id, slug FROM job_requests WHERE batch_id = ?)""",
                    (pending_id,),
                )
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
    ) -> bool:
        """Called the moment a batch exists: its id, and which item and persona each request is.
        False when `replaces` is already gone: another worker adopted (or forgot) that intent.

        `replaces` is the intent recorded before the create; it goes in the same transaction.
        """
        stamp = now()
        with self.store.transaction() as db:
            if replaces is not None:
                gone = db.execute(
                    "DELETE FROM job_batches WHERE batch_id = ? AND state = 'creating'",
                    (replaces,),
                )
                if gone.rowcount == 0:
                    return False
                db.execute("DELETE FROM job_requests WHERE batch_id = ?", (replaces,))
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
            unlease = ", lease_owner = NULL, lease_until = NULL" if self.postgres else ""
            db.executemany(
                "UPDATE job_items SET state = 'submitted', run_id = ?, updated_at = ?"
                + unlease
                + " WHERE job_id = ? AND slug = ?",
                [(run_id, stamp, job_id, slug) for slug, run_id in slugs],
            )
        return True

    def open_batches(self, job_id: str) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                """SELECT batch_id FROM job_batches WHERE job_id = ? AND state = 'submitted'
                   ORDER BY created_at""",
                (job_id,),
            )
        ]

    def batch_created(self, batch_id: str) -> datetime | None:
        """When we created a batch (our clock): what its cache entries' age is measured from."""
        row = self.db.execute(
            "SELECT created_at FROM job_batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        return None if row is None else datetime.fromisoformat(row[0])

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
        self,
        batch_id: str,
        results: Sequence[tuple[str, str, dict[str, Any]]],
        *,
        unread: str = "missing",
    ) -> None:
        """Store every result of an ended batch (custom_id, state, result) and close the batch;
        a request the results left out (its line `unread`: garbled, say) is redone live.
        Once: a worker that finds another has collected it meanwhile writes nothing."""
        with self.store.transaction() as db:
            closed = db.execute(
                "UPDATE job_batches SET state = 'collected' WHERE batch_id = ? AND state = 'submitted'",
                (batch_id,),
            )
            if closed.rowcount == 0:
                return
            db.executemany(
                "UPDATE job_requests SET state = ?, result = ? WHERE custom_id = ?",
                [(state, json.dumps(result), cid) for cid, state, result in results],
            )
            db.execute(
                """UPDATE job_requests SET state = 'retry', result = ?
                   WHERE batch_id = ? AND state = 'submitted'""",
                (json.dumps({"type": unread}), batch_id),
            )

    def keep_results(self, results: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Store results read before a download stopped, the batch left open: a tool whose
        results all arrived can be finished, and nothing received is lost."""
        with self.store.transaction() as db:
            db.executemany(
                "UPDATE job_requests SET state = ?, result = ? WHERE custom_id = ? AND state = 'submitted'",
                [(state, json.dumps(result), cid) for cid, state, result in results],
            )

    def take_pending(self, job_id: str, slugs: Sequence[str]) -> list[Item]:
        """The pending items to submit, in backlog order. On the shared store, leased to this
        worker (`SKIP LOCKED`), so that two workers never submit one tool."""
        if not self.postgres:
            return [i for i in self.items(job_id, slugs) if i.state == "pending"]
        rows = self.db.execute(
            """UPDATE job_items SET state = 'running', lease_owner = ?, lease_until = ?,
                 attempts = attempts + 1, error = NULL, updated_at = ?
               WHERE (job_id, slug) IN (
                 SELECT job_id, slug FROM job_items
                 WHERE job_id = ? AND slug = ANY(?) AND state = 'pending'
                 FOR UPDATE SKIP LOCKED)
               RETURNING *""",
            (self.owner, time.time() + self.lease_s, now(), job_id, list(slugs)),
        ).fetchall()
        return sorted((_item(r) for r in rows), key=lambda i: i.position)

    def take_ended(self, job_id: str, slugs: Sequence[str]) -> list[Item]:
        """Submitted items none of whose requests is still out: ready for their next round or
        their run. On the shared store, leased to this worker, so one worker finishes each."""
        if not self.postgres:
            return [
                i
                for i in self.items(job_id, slugs)
                if i.state == "submitted"
                and i.run_id is not None
                and self.collected(job_id, i.slug, i.run_id)
            ]
        rows = self.db.execute(
            """UPDATE job_items SET state = 'running', lease_owner = ?, lease_until = ?,
                 updated_at = ?
               WHERE (job_id, slug) IN (
                 SELECT i.job_id, i.slug FROM job_items i
                 WHERE i.job_id = ? AND i.slug = ANY(?) AND i.state = 'submitted'
                   AND NOT EXISTS (
                     SELECT 1 FROM job_requests r WHERE r.job_id = i.job_id AND r.slug = i.slug
                       AND r.run_id = i.run_id AND r.state IN ('submitted', 'creating'))
                 FOR UPDATE SKIP LOCKED)
               RETURNING *""",
            (self.owner, time.time() + self.lease_s, now(), job_id, list(slugs)),
        ).fetchall()
        return sorted((_item(r) for r in rows), key=lambda i: i.position)

    def requests_of(self, job_id: str, slug: str, run_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM job_requests WHERE job_id = ? AND slug = ? AND run_id = ?",
            (job_id, slug, run_id),
        ).fetchall()

    def retry_counts(self, job_id: str) -> dict[str, int]:
        """Batch results that had to be redone live, by what came back."""
        kind = "result::jsonb ->> 'type'" if self.postgres else "json_extract(result, '$.type')"
        rows = self.db.execute(
            f"""SELECT {kind} AS kind, COUNT(*) AS n FROM job_requests
               WHERE job_id = ? AND state = 'retry' GROUP BY kind""",
            (job_id,),
        ).fetchall()
        return {r["kind"]: r["n"] for r in rows}
