"""Ensemble reviews' reducer: K samples of one persona as one verdict, without a network."""

from __future__ import annotations

import json

import pytest

from panel.judge.ensemble import combine
from panel.model.run import Run
from panel.model.verdict import Usage, VerdictRecord
from tests.runs import make_run, verdict


def sample(score: int, decision: str, rationale: str = "r", **kw: object) -> VerdictRecord:
    return VerdictRecord(
        persona="skeptic",
        persona_version=2,
        status="ok",
        score=score,
        decision=decision,  # type: ignore[arg-type]
        rationale=rationale,
        usage=Usage(input_tokens=10, output_tokens=5),
        **kw,  # type: ignore[arg-type]
    )


def failed(error: str = "boom") -> VerdictRecord:
    return VerdictRecord.failed("skeptic", 2, error, raw="{", usage=Usage(output_tokens=1))


def test_median_score_majority_decision_and_spread() -> None:
    """70/74/80 keep the median 74, the majority decision and the scores' standard deviation."""
    v = combine([sample(70, "ship", "a"), sample(80, "ship", "c"), sample(74, "skip", "b")])
    assert (v.status, v.score, v.decision, v.samples, v.samples_failed) == (
        "ok",
        74,
        "ship",
        [70, 80, 74],
        0,
    )
    assert v.spread == pytest.approx(4.1)
    assert (v.persona, v.persona_version) == ("skeptic", 2)


def test_rationale_is_the_agreeing_sample_closest_to_the_median() -> None:
    """The paragraph kept argues for the decision kept: the median sample's, if it agrees."""
    assert (
        combine(
            [sample(70, "ship", "a"), sample(74, "ship", "b"), sample(90, "ship", "c")]
        ).rationale
        == "b"
    )
    v = combine([sample(60, "ship", "a"), sample(74, "skip", "b"), sample(80, "ship", "c")])
    assert (v.decision, v.rationale) == ("ship", "c")


@pytest.mark.parametrize(
    ("scores", "decision"),
    [((72, 80), "ship"), ((50, 60), "skip")],
)
def test_tied_decision_goes_by_median_against_the_threshold(
    scores: tuple[int, int], decision: str
) -> None:
    """One ship and one skip: ship only when the median reaches the ship threshold (70)."""
    v = combine([sample(scores[0], "ship"), sample(scores[1], "skip")], threshold=70)
    assert v.decision == decision and v.score == round(sum(scores) / 2)


def test_usage_is_summed_and_injection_kept_if_any_sample_flags_it() -> None:
    """Every sample was paid for; one sample's injection flag is the persona's."""
    flagged = sample(74, "ship", injection_suspected=True, injection_evidence="ignore all")
    v = combine([sample(70, "ship"), flagged, sample(80, "ship")])
    assert v.usage == Usage(input_tokens=30, output_tokens=15)
    assert v.attempts == 3
    assert (v.injection_suspected, v.injection_evidence) == (True, "ignore all")


def test_half_the_samples_failing_still_counts() -> None:
    """A failed sample is left out, never counted as a skip or a zero."""
    v = combine([sample(70, "ship"), failed()])
    assert (v.status, v.score, v.samples, v.samples_failed) == ("ok", 70, [70], 1)
    assert v.usage.output_tokens == 6


def test_fewer_than_half_succeeding_fails_the_persona() -> None:
    """Two of three samples failed: the persona is failed, with the reason and what was paid."""
    v = combine([failed("refused"), sample(70, "ship"), failed()])
    assert v.status == "failed" and v.score is None and v.decision is None
    assert v.error == "2 of 3 samples failed: refused"
    assert v.raw == "{" and v.samples == [70] and v.usage.output_tokens == 7


def test_a_run_recorded_before_ensembles_loads() -> None:
    """A run whose verdicts have no samples, samples_failed or spread keys loads with them null."""
    record = json.loads(make_run("r-old", [verdict("builder", 80)]).model_dump_json())
    for v in record["verdicts"]:
        for key in ("samples", "samples_failed", "spread"):
            del v[key]
    loaded = Run.model_validate_json(json.dumps(record)).verdicts[0]
    assert (loaded.score, loaded.samples, loaded.samples_failed, loaded.spread) == (
        80,
        None,
        None,
        None,
    )
