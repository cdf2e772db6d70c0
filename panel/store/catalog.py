"""What the store holds, without reading a record: every run id by tool, a stamp of each record,
and the vote tally of each tool, in three queries whatever the size of the store.

An incremental site build fingerprints its pages with this, so an unchanged store costs three
queries and a `stat` per record instead of parsing every record.
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from panel.model.votes import Votes, tally
from panel.store.sqlite import Store
from panel.store.votes import OPERATOR_ROWS, READER_ROWS


@dataclass
class Catalog:
    """Run ids per tool (oldest first), tools by their latest run (newest first), and votes."""

    runs: dict[str, list[str]] = field(default_factory=dict)  # slug -> run ids, oldest first
    order: list[str] = field(default_factory=list)  # slugs, most recently reviewed first
    stamps: dict[str, str] = field(default_factory=dict)  # run id -> what changes with its record
    votes: dict[str, Votes] = field(default_factory=dict)  # slug -> its tally, if any
    slug_of: dict[str, str] = field(default_factory=dict)  # run id -> slug

    def votes_of(self, slug: str) -> Votes:
        return self.votes.get(slug) or Votes()

    def stamped(self, run_id: str) -> str:
        """A run as a fingerprint sees it: its id, and its record's stamp."""
        return f"{run_id}:{self.stamps.get(run_id, '')}"


def catalog(store: Store) -> Catalog:
    """The store's runs and votes as `Catalog`; one query per table.

    A record's stamp is its file's size and modification time in a data home (a record edited by
    hand or restored from a backup is seen as changed); in a shared database records are written
    once with their index row and never updated, so the run id is the whole stamp.
    """
    on_disk = store.dialect == "sqlite"
    path = "path" if on_disk else "NULL AS path"
    rows = store.db.execute(
        f"SELECT run_id, slug, {path} FROM runs ORDER BY created_at, {store._seq}"
    ).fetchall()
    cat = Catalog()
    runs: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        run_id, slug = row["run_id"], row["slug"]
        runs[slug].append(run_id)
        cat.slug_of[run_id] = slug
        if on_disk:
            cat.stamps[run_id] = _stat(store, row["path"])
    cat.runs = dict(runs)
    # the latest run of each tool, newest first: the order of `Store.tools()`
    position = {run_id: n for n, run_id in enumerate(row["run_id"] for row in rows)}
    cat.order = sorted(cat.runs, key=lambda slug: position[cat.runs[slug][-1]], reverse=True)
    cat.votes = _votes(store)
    return cat


def _stat(store: Store, path: str) -> str:
    try:
        st = os.stat(store.home / path)
    except OSError:
        return "missing"
    return f"{st.st_size}-{st.st_mtime_ns}"


def _votes(store: Store) -> dict[str, Votes]:
    """Every tool's tally in two queries: readers counted in SQL, operators folded (as
    `VoteBook.votes`)."""
    try:
        readers = store.db.execute(
            f"SELECT slug, decision, COUNT(*) AS n FROM votes WHERE {READER_ROWS}"
            " GROUP BY slug, decision"
        ).fetchall()
        operators = store.db.execute(
            f"SELECT slug, voter, decision, voted_at FROM votes WHERE {OPERATOR_ROWS}"
        ).fetchall()
    except sqlite3.OperationalError:  # a read-only home from before votes existed
        return {}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in readers:
        counts[row["slug"]][row["decision"]] = row["n"]
    rows: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for row in operators:
        rows[row["slug"]].append((row["voter"], row["decision"], row["voted_at"]))
    return {slug: tally(counts[slug], rows[slug]) for slug in counts.keys() | rows.keys()}
