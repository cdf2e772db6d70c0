"""Community votes: people's ship/skip beside the panel's, one vote per voter per tool."""

from __future__ import annotations

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
