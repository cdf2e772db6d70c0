"""A vs B: the pairwise question's answer (PairwisePick) and the record a comparison keeps.

The model answers by position ("first"/"second"): it never sees which stored tool is A. The
program maps each ordering's answer back to A or B, and a pick that changes with the order is a
tie (`panel.judge.pairwise`). Field descriptions reach the model through the JSON schema.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from panel.model.run import RunUsage, utc_now
from panel.model.verdict import Usage

PAIRWISE_SCHEMA_VERSION = 1

Position = Literal["first", "second", "tie"]
Side = Literal["a", "b", "tie"]
Order = Literal["ab", "ba"]  # which tool's documents came first
Winner = Literal["a", "b", "tie", "incomplete"]


class PairwisePick(BaseModel):
    """One persona's answer to "which of these two should you ship?": the structured output."""

    model_config = ConfigDict(extra="forbid")

    pick: Position = Field(
        description="The tool you would ship: 'first' (the first tool's documents), 'second', "
        "or 'tie' only if your lens finds no real difference between them."
    )
    reason: str = Field(
        min_length=1,
        description="Two or three sentences through your lens: the difference that decides it.",
    )
    pick_first_if: str = Field(
        min_length=1,
        description="One line ending 'Pick the first tool if ...': who or what it suits better.",
    )
    pick_second_if: str = Field(
        min_length=1,
        description="One line ending 'Pick the second tool if ...': who or what it suits better.",
    )


class PairwiseAsk(BaseModel):
    """One ordering's answer, mapped back to the tools: `pick` is A, B or a tie (None: failed)."""

    order: Order
    status: Literal["ok", "failed"] = "ok"
    pick: Side | None = None
    reason: str = ""
    pick_a_if: str = ""
    pick_b_if: str = ""
    error: str | None = None
    raw: str | None = None  # the unusable reply of a failed ask
    usage: Usage = Field(default_factory=Usage)


class PairwiseVote(BaseModel):
    """A persona's pairwise verdict over both orderings, after the swap rule."""

    persona: str
    persona_version: int
    asks: list[PairwiseAsk]
    status: Literal["ok", "failed"] = "ok"
    pick: Side | None = None  # None when an ordering failed
    order_stable: bool = False  # both orderings named the same tool (or both a tie)
    reason: str = ""
    pick_a_if: str = ""
    pick_b_if: str = ""
    error: str | None = None

    @property
    def usage(self) -> Usage:
        return sum((ask.usage for ask in self.asks), Usage())


class PairwiseDecision(BaseModel):
    """The panel's pairwise verdict: counts over the personas that answered both orderings."""

    winner: Winner
    a: int = 0
    b: int = 0
    ties: int = 0
    flipped: int = 0  # ties that are picks which changed with the order
    answered: int = 0
    failed: int = 0
    label: str


class PairTool(BaseModel):
    """One side of the comparison: the tool and the run whose documents were read."""

    slug: str
    name: str
    run_id: str


class Pairwise(BaseModel):
    """One pairwise comparison of two tools; immutable once written. Pages render from it."""

    schema_version: int = PAIRWISE_SCHEMA_VERSION
    pair_id: str
    created_at: str = Field(default_factory=utc_now)
    model: str
    a: PairTool
    b: PairTool
    votes: list[PairwiseVote]
    decision: PairwiseDecision
    usage: RunUsage = Field(default_factory=RunUsage)
    cost_usd: float | None = None
    prompt_versions: dict[str, int] = Field(default_factory=dict)
