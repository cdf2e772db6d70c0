"""Ensemble reviews: K samples of one persona reduced to one verdict (pure, no network).

`panel review --samples K` asks each persona K times; this keeps the median score, the majority
decision and the spread, so the panel's reducer still sees one verdict per persona.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from panel.config import DEFAULT_SHIP_THRESHOLD
from panel.judge.decision import majority
from panel.model.verdict import Usage, VerdictRecord


def spread(scores: Sequence[int]) -> float:
    """The scores' population standard deviation (as `panel eval` measures consistency)."""
    return round(statistics.pstdev(scores), 1) if len(scores) > 1 else 0.0


def combine(
    samples: Sequence[VerdictRecord], *, threshold: float = DEFAULT_SHIP_THRESHOLD
) -> VerdictRecord:
    """One persona's K samples as one verdict.

    Score: the median of the successful samples (rounded, for an even count). Decision: their
    majority; a tie goes to ship only when the median reaches the ship threshold, as the panel
    breaks its own ties. Rationale and quotes: of the sample closest to the median among those
    that agree with the decision (the earliest on a tie). Usage and attempts are summed;
    `seconds` is the longest sample, since they run at once. With fewer than half the samples
    succeeding the persona is failed, with the first failure's reason.
    """
    first = samples[0]
    ok = [s for s in samples if s.status == "ok" and s.score is not None]
    scores = [s.score for s in ok if s.score is not None]
    failed = len(samples) - len(ok)
    common = {
        "attempts": sum(s.attempts for s in samples),
        "usage": sum((s.usage for s in samples), Usage()),
        "seconds": max(s.seconds for s in samples),
        "samples": scores,
        "samples_failed": failed,
        "spread": spread(scores) if scores else None,
    }
    if not ok or 2 * len(ok) < len(samples):
        bad = next(s for s in samples if s.status != "ok")
        return VerdictRecord.failed(
            first.persona,
            first.persona_version,
            f"{failed} of {len(samples)} samples failed: {bad.error or 'unusable reply'}",
            raw=bad.raw,
            **common,
        )
    median = statistics.median(scores)
    ship = sum(s.decision == "ship" for s in ok)
    decision = majority(ship, len(ok) - ship, median, threshold)
    agreeing = [s for s in ok if s.decision == decision]
    closest = min(agreeing, key=lambda s: abs((s.score or 0) - median))
    flagged = next((s for s in ok if s.injection_suspected), None)
    return VerdictRecord(
        persona=first.persona,
        persona_version=first.persona_version,
        status="ok",
        score=round(median),
        decision=decision,
        rationale=closest.rationale,
        injection_suspected=flagged is not None,
        injection_evidence=flagged.injection_evidence if flagged else "",
        evidence=closest.evidence,  # the quotes behind the rationale kept
        **common,  # type: ignore[arg-type]
    )
