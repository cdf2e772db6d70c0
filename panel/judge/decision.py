"""The panel's reducer: pure functions from verdicts to one decision, testable without a network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from panel.config import DEFAULT_QUORUM, DEFAULT_SHIP_THRESHOLD
from panel.model.decision import PanelDecision
from panel.model.verdict import VerdictRecord


def succeeded(verdicts: Sequence[VerdictRecord]) -> list[VerdictRecord]:
    return [v for v in verdicts if v.status == "ok"]


def mean_score(verdicts: Sequence[VerdictRecord]) -> float | None:
    scores = [v.score for v in succeeded(verdicts) if v.score is not None]
    return round(sum(scores) / len(scores), 1) if scores else None


def majority(ship: int, skip: int, mean: float | None, threshold: float) -> Literal["ship", "skip"]:
    """Majority of ship/skip; a tie goes to ship only when the mean score reaches the threshold."""
    if ship != skip:
        return "ship" if ship > skip else "skip"
    return "ship" if mean is not None and mean >= threshold else "skip"


def label(decision: str, ship: int, skip: int) -> str:
    """The label in the product's form: `Ship · 3 ship / 1 skip`."""
    return f"{decision.capitalize()} · {ship} ship / {skip} skip"


def decide(
    verdicts: Sequence[VerdictRecord],
    *,
    threshold: float = DEFAULT_SHIP_THRESHOLD,
    quorum: int = DEFAULT_QUORUM,
) -> PanelDecision:
    ok = succeeded(verdicts)
    ship = sum(v.decision == "ship" for v in ok)
    skip = len(ok) - ship
    mean = mean_score(verdicts)
    failed = len(verdicts) - len(ok)
    if len(ok) < min(quorum, len(verdicts)) or not ok:
        decision: Literal["ship", "skip", "incomplete"] = "incomplete"
        dissent: list[str] = []
    else:
        decision = majority(ship, skip, mean, threshold)
        dissent = [v.persona for v in ok if v.decision != decision]
    return PanelDecision(
        decision=decision,
        ship=ship,
        skip=skip,
        failed=failed,
        mean_score=mean,
        ship_share=round(ship / len(ok), 3) if ok else None,
        label=label(decision, ship, skip),
        dissenters=dissent,
    )
