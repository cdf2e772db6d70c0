"""Community votes: one ship-or-skip per voter per tool, beside the panel's own decision.

A mixin of `Store`, apart from the runs so that the votes table and its queries are read in one place.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from panel.model.votes import READER_PREFIX, Votes, fold_voter, is_reader, tally
from panel.store.connection import Connection

# Reader ids are one per reader already; operator names may be a 0.1.0 store's unfolded spellings.
READER_ROWS = f"substr(voter, 1, {len(READER_PREFIX)}) = '{READER_PREFIX}'"
OPERATOR_ROWS = f"substr(voter, 1, {len(READER_PREFIX)}) <> '{READER_PREFIX}'"


class VoteBook:
    """The votes table of a store."""

    db: Connection
    _upsert_vote: str

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[Connection]: ...

    def set_vote(self, slug: str, voter: str, decision: Literal["ship", "skip"]) -> None:
        """One vote per voter per tool: voting again changes it (and replaces the vote of any
        older spelling of the same name)."""
        with self.transaction() as db:
            self._drop_spellings(db, slug, voter, keep=True)
            db.execute(
                self._upsert_vote,
                (slug, voter, decision, datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def clear_vote(self, slug: str, voter: str) -> bool:
        """Remove a voter's vote (under any spelling of the name); False when there was none."""
        with self.transaction() as db:
            dropped = self._drop_spellings(db, slug, voter, keep=False)
            cur = db.execute("DELETE FROM votes WHERE slug = ? AND voter = ?", (slug, voter))
        return cur.rowcount + dropped > 0

    @staticmethod
    def _drop_spellings(db: Connection, slug: str, voter: str, *, keep: bool) -> int:
        """Delete the rows of other spellings of an operator's (folded) name."""
        if is_reader(voter):
            return 0
        rows = db.execute(
            f"SELECT voter FROM votes WHERE slug = ? AND voter <> ? AND {OPERATOR_ROWS}",
            (slug, voter),
        ).fetchall()
        others = [r["voter"] for r in rows if fold_voter(r["voter"]) == voter]
        db.executemany(
            "DELETE FROM votes WHERE slug = ? AND voter = ?", [(slug, o) for o in others]
        )
        return len(others)

    def votes(self, slug: str) -> Votes:
        try:
            readers = self.db.execute(
                f"SELECT decision, COUNT(*) AS n FROM votes WHERE slug = ? AND {READER_ROWS}"
                " GROUP BY decision",
                (slug,),
            ).fetchall()
            operators = self.db.execute(
                f"SELECT voter, decision, voted_at FROM votes WHERE slug = ? AND {OPERATOR_ROWS}",
                (slug,),
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only home from before votes existed
            return Votes()
        return tally(
            {r["decision"]: r["n"] for r in readers},
            ((r["voter"], r["decision"], r["voted_at"]) for r in operators),
        )

    def vote_of(self, slug: str, voter: str) -> str | None:
        """One voter's vote on a tool (`ship` or `skip`), or None."""
        row = self.db.execute(
            "SELECT decision FROM votes WHERE slug = ? AND voter = ?", (slug, voter)
        ).fetchone()
        return str(row["decision"]) if row else None
