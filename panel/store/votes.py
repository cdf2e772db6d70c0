"""Community votes: one ship-or-skip per voter per tool, beside the panel's own decision.

A mixin of `Store`, apart from the runs so that the votes table and its queries are read in one place.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from panel.model.votes import Votes
from panel.store.connection import Connection


class VoteBook:
    """The votes table of a store."""

    db: Connection
    _upsert_vote: str

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[Connection]: ...

    def set_vote(self, slug: str, voter: str, decision: Literal["ship", "skip"]) -> None:
        """One vote per voter per tool: voting again changes it."""
        with self.transaction() as db:
            db.execute(
                self._upsert_vote,
                (slug, voter, decision, datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def clear_vote(self, slug: str, voter: str) -> bool:
        """Remove a voter's vote; False when there was none."""
        with self.transaction() as db:
            cur = db.execute("DELETE FROM votes WHERE slug = ? AND voter = ?", (slug, voter))
        return cur.rowcount > 0

    def votes(self, slug: str) -> Votes:
        try:
            rows = self.db.execute(
                "SELECT decision, COUNT(*) AS n FROM votes WHERE slug = ? GROUP BY decision",
                (slug,),
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only home from before votes existed
            return Votes()
        return Votes(**{r["decision"]: r["n"] for r in rows})

    def vote_of(self, slug: str, voter: str) -> str | None:
        """One voter's vote on a tool (`ship` or `skip`), or None."""
        row = self.db.execute(
            "SELECT decision FROM votes WHERE slug = ? AND voter = ?", (slug, voter)
        ).fetchone()
        return str(row["decision"]) if row else None
