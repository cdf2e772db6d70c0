"""Community votes: people's ship/skip beside the panel's, one vote per voter per tool."""

from __future__ import annotations

import unicodedata

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
