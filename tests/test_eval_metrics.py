"""The eval's measures as pure functions, checked against numbers worked out by hand."""

from __future__ import annotations

import pytest

from panel.eval import metrics
from panel.eval.measure import best_member, consistency, independence
from panel.eval.report import AgreementRow, PersonaSamples, ToolResult
from panel.model.decision import PanelDecision
from panel.model.run import Run, RunUsage, ToolInfo
from panel.model.verdict import VerdictRecord


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([], None), ([70], 0.0), ([70, 74], 2.0), ([2, 4, 4, 4, 5, 5, 7, 9], 2.0)],
)
def test_spread_is_the_population_standard_deviation(
    scores: list[int], expected: float | None
) -> None:
    """SD over the K scores; one score has none, no score is None."""
    assert metrics.spread(scores) == expected


@pytest.mark.parametrize(
    ("decisions", "winner", "share", "flips"),
    [
        (["ship"] * 5, "ship", 1.0, 0.0),
        (["ship", "ship", "ship", "ship", "skip"], "ship", 0.8, 0.4),  # 4 of 10 pairs differ
        (["ship", "skip"], None, 0.5, 1.0),
        ([], None, None, None),
    ],
)
def test_majority_share_and_flip_rate(
    decisions: list[str], winner: str | None, share: float | None, flips: float | None
) -> None:
    """Majority (None on a tie), share agreeing with it, and the chance two runs disagree."""
    assert metrics.majority(decisions) == winner
    assert metrics.majority_share(decisions) == share
    assert metrics.flip_rate(decisions) == flips


def test_jaccard_over_word_trigrams() -> None:
    """'a b c d' and 'a b c e' share one of three 3-grams; case and punctuation are ignored."""
    assert metrics.jaccard("A b, c d", "a b c e") == pytest.approx(1 / 3, abs=1e-3)
    assert metrics.jaccard("same words here", "Same words here.") == 1.0
    assert metrics.jaccard("", "") == 0.0


def test_echoes_flag_pairs_at_the_threshold() -> None:
    """A pair at or over the threshold repeats reasoning; the others do not."""
    pairs = metrics.overlaps({"a": "one two three four", "b": "one two three four", "c": "x y z"})
    assert metrics.echoes(pairs, 0.3) == [("a", "b", 1.0)]


def test_cosine_of_hand_made_vectors() -> None:
    assert metrics.cosine([1, 0], [0, 1]) == 0.0
    assert metrics.cosine([1, 1], [2, 2]) == 1.0
    assert metrics.cosine([0, 0], [1, 1]) == 0.0


def test_agreement_accuracy_balanced_accuracy_kappa_and_confusion() -> None:
    """Labels ship,ship,ship,skip against ship,ship,skip,skip.

    accuracy 3/4; recall ship 2/3, skip 1/1 -> balanced 5/6; chance agreement
    (3/4 * 2/4) + (1/4 * 2/4) = 1/2, kappa (0.75 - 0.5) / 0.5 = 0.5.
    """
    found = metrics.agreement(["ship", "ship", "ship", "skip"], ["ship", "ship", "skip", "skip"])
    assert (found.n, found.accuracy, found.balanced_accuracy, found.kappa) == (4, 0.75, 0.833, 0.5)
    assert found.confusion == {"ship": {"ship": 2, "skip": 1}, "skip": {"ship": 0, "skip": 1}}


def test_a_judge_that_always_ships_has_no_skill() -> None:
    """Always 'ship' on 2 ship / 1 skip: accuracy 2/3 yet balanced accuracy 1/2 and kappa 0."""
    found = metrics.agreement(["ship", "ship", "skip"], ["ship", "ship", "ship"])
    assert (found.accuracy, found.balanced_accuracy, found.kappa) == (0.667, 0.5, 0.0)


def test_kappa_is_none_when_chance_agreement_is_certain() -> None:
    assert metrics.agreement(["ship"], ["ship"]).kappa is None
    assert metrics.agreement([], []).accuracy is None


def test_best_member_and_whether_the_panel_beats_it() -> None:
    """The member with the best balanced accuracy; the panel beats it only when strictly higher."""

    def row(who: str, balanced: float) -> AgreementRow:
        return AgreementRow(
            who=who, n=4, accuracy=balanced, balanced_accuracy=balanced, kappa=0.0, confusion={}
        )

    assert best_member([row("panel", 0.8), row("builder", 0.7), row("skeptic", 0.5)]) == (
        "builder",
        True,
    )
    assert best_member([row("panel", 0.7), row("builder", 0.7)]) == ("builder", False)
    assert best_member([row("builder", 0.7)]) == (None, None)


def tool(scores: dict[str, list[int]], panel: list[str]) -> ToolResult:
    return ToolResult(
        name="T",
        slug="t",
        documents=1,
        run_ids=[],
        personas=[
            PersonaSamples(
                persona=p,
                scores=s,
                decisions=["ship" if x >= 70 else "skip" for x in s],
                spread=metrics.spread(s),
                majority=None,
                agree_share=metrics.majority_share(["ship" if x >= 70 else "skip" for x in s]),
            )
            for p, s in scores.items()
        ],
        panel_decisions=panel,
        panel_scores=[70.0, 74.0, 72.0],
        panel_majority="ship",
    )


def test_consistency_averages_spreads_over_tools() -> None:
    """Builder SD 0 and 2 over two tools -> mean 1, max 2; a 2-1 panel split flips 2 pairs of 3."""
    tools = [
        tool({"builder": [70, 70, 70]}, ["ship", "ship", "ship"]),
        tool({"builder": [72, 76, 74]}, ["ship", "ship", "skip"]),
    ]
    builder, panel = consistency(tools, ["builder"])
    assert builder.mean_spread == pytest.approx(0.815, abs=0.01)
    assert (builder.max_spread, builder.agree_share) == (1.63, 1.0)
    assert panel.who == "panel" and panel.flip_rate == pytest.approx(0.33, abs=0.01)
    assert panel.agree_share == pytest.approx(0.83, abs=0.01)


def run_with(rationales: dict[str, str]) -> Run:
    verdicts = [
        VerdictRecord(
            persona=p, persona_version=1, status="ok", score=70, decision="ship", rationale=text
        )
        for p, text in rationales.items()
    ]
    return Run(
        run_id="r",
        status="complete",
        model="m",
        tool=ToolInfo(name="T", slug="t"),
        documents=[],
        verdicts=verdicts,
        panel=PanelDecision(
            decision="ship",
            ship=len(verdicts),
            skip=0,
            failed=0,
            mean_score=70,
            ship_share=1,
            label="Ship",
            dissenters=[],
        ),
        usage=RunUsage(),
    )


def test_independence_flags_a_persona_repeating_another() -> None:
    """Founder copies Skeptic word for word: only that pair is flagged."""
    skeptic = "the direct competitors are cheaper and the scenario where it breaks is scale"
    run = run_with(
        {"builder": "a tidy primitive with a fast install", "skeptic": skeptic, "founder": skeptic}
    )
    rows = {(r.a, r.b): r for r in independence([run], ["builder", "skeptic", "founder"])}
    assert rows[("skeptic", "founder")].flagged and rows[("skeptic", "founder")].mean == 1.0
    assert not rows[("builder", "skeptic")].flagged


def test_independence_uses_embeddings_when_given() -> None:
    """An embedding function adds cosine similarity per pair."""
    run = run_with({"builder": "one", "skeptic": "two"})
    (row,) = independence([run], ["builder", "skeptic"], embed=lambda texts: [[1, 0], [1, 0]])
    assert row.cosine == 1.0
