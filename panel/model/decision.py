"""What the panel says as a whole: the reducer in judge/ makes it, every page and diff reads it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PanelDecision(BaseModel):
    """What the panel says as a whole; failed verdicts are counted apart, never as skips."""

    decision: Literal["ship", "skip", "incomplete"]
    ship: int
    skip: int
    failed: int
    # bounded like the scores it is the mean of; NaN and infinities are not means
    mean_score: float | None = Field(ge=0, le=100, allow_inf_nan=False)
    ship_share: float | None
    label: str
    dissenters: list[str]
