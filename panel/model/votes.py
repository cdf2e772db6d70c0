"""Community votes: people's ship/skip beside the panel's, one vote per voter per tool."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from pydantic import BaseModel

NO_VOTES = "No community votes yet"


class Votes(BaseModel):
    """The tally of one tool's community votes."""

    ship: int = 0
    skip: int = 0

    @property
    def total(self) -> int:
        return self.ship + self.skip

    @property
    def label(self) -> str:
        """`12 ship / 3 skip`, or the seed's `No community votes yet`."""
        return f"{self.ship} ship / {self.skip} skip" if self.total else NO_VOTES


# Readers of the live site vote under ids with this prefix; an operator's name may not start so.
READER_PREFIX = "reader:"


def fold_voter(name: str) -> str:
    """A voter's name as one key: `Alice`, `alice`, `ａｌｉｃｅ` and `al\\u200bice` are one voter.

    NFKC (compatibility forms: full-width, ligatures), casefold, NFKC again (casefolding can undo
    normal form), invisible characters (format and control characters) removed, whitespace runs
    made one space.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    visible = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc"))
    return " ".join(visible.split())


def is_reader(voter: str) -> bool:
    return voter.startswith(READER_PREFIX)


def fold_operators(rows: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Operator votes as (voter, decision, voted_at) rows -> {folded name: decision}.

    A store written before names were folded (0.1.0) may hold `Alice` and `alice` as two rows:
    they are one voter, and the later vote stands (ties go to the folded spelling, the one a
    current panel writes).
    """
    best: dict[str, tuple[tuple[str, bool], str]] = {}
    for voter, decision, voted_at in rows:
        name = fold_voter(voter)
        rank = (voted_at, voter == name)
        if name not in best or rank > best[name][0]:
            best[name] = (rank, decision)
    return {name: decision for name, (_, decision) in best.items()}


def tally(readers: dict[str, int], operators: Iterable[tuple[str, str, str]]) -> Votes:
    """Readers' counts by decision (their ids are already one per reader) plus the folded
    operators' votes."""
    counts = dict(readers)
    for decision in fold_operators(operators).values():
        counts[decision] = counts.get(decision, 0) + 1
    return Votes(**counts)
