"""Several workers on one job (the shared store): leases on items, renewed by a heartbeat.

A mixin of `Jobs`, apart from the job's own bookkeeping: the `FOR UPDATE SKIP LOCKED` claims that
hand each worker different items and give a killed worker's items to the others.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from panel.batch.items import Item, _item, now
from panel.store.connection import Connection
from panel.store.sqlite import Store


class Leases:
    """The lease columns of `job_items`: who holds an item, and until when."""

    store: Store
    db: Connection
    postgres: bool
    owner: str
    lease_s: float

    def claim(self, job_id: str, slugs: Sequence[str]) -> Item | None:
        """The next pending item of these, or one whose worker's lease ran out; leased to us.

        `FOR UPDATE SKIP LOCKED`: workers claiming at the same moment get different items.
        """
        stamp = time.time()
        row = self.db.execute(
            """UPDATE job_items SET state = 'running', lease_owner = ?, lease_until = ?,
                 attempts = attempts + 1, error = NULL, updated_at = ?
               WHERE (job_id, slug) = (
                 SELECT job_id, slug FROM job_items
                 WHERE job_id = ? AND slug = ANY(?)
                   AND (state = 'pending' OR state = 'running' AND lease_until < ?)
                 ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED)
               RETURNING *""",
            (self.owner, stamp + self.lease_s, now(), job_id, list(slugs), stamp),
        ).fetchone()
        return None if row is None else _item(row)

    def leased_elsewhere(self, job_id: str, slugs: Sequence[str] | None = None) -> int:
        """Items (of these slugs, else of the job) another worker holds a live lease on: they
        may yet come back to us. An expired lease is no one's: `claim` takes it over."""
        among = "" if slugs is None else " AND slug = ANY(?)"
        row = self.db.execute(
            f"""SELECT COUNT(*) FROM job_items WHERE job_id = ?{among}
               AND state = 'running' AND lease_owner <> ? AND lease_until >= ?""",
            (job_id, *([] if slugs is None else [list(slugs)]), self.owner, time.time()),
        ).fetchone()
        return int(row[0])

    def heartbeat(self, job_id: str) -> None:
        """Renew the leases of the items this worker is reviewing."""
        self.db.execute(
            """UPDATE job_items SET lease_until = ?
               WHERE job_id = ? AND lease_owner = ? AND state = 'running'""",
            (time.time() + self.lease_s, job_id, self.owner),
        )

    def release(self, job_id: str, slug: str) -> None:
        """Give a claimed item back untouched (the budget stopped this worker)."""
        self.db.execute(
            """UPDATE job_items SET state = 'pending', lease_owner = NULL, lease_until = NULL,
                 attempts = attempts - 1
               WHERE job_id = ? AND slug = ? AND lease_owner = ? AND state = 'running'""",
            (job_id, slug, self.owner),
        )

    def drop_orphans(self, job_id: str, slug: str) -> None:
        if self.postgres:  # the record is a column of its index row: there are no orphans
            return
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
