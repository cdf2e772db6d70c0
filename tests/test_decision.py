"""The panel's reducer: majority, mean, dissent, label and quorum, without a network."""

from __future__ import annotations

import pytest

from panel.judge.decision import decide, label, majority
from panel.model.verdict import VerdictRecord


def ok(persona: str, score: int, decision: str) -> VerdictRecord:
    return VerdictRecord(
        persona=persona,
        persona_version=1,
        status="ok",
        score=score,
        decision=decision,
        rationale="r",
    )  # type: ignore[arg-type]


def failed(persona: str) -> VerdictRecord:
    return VerdictRecord.failed(persona, 1, "boom")


def test_unanimous_ship_label_matches_the_seed_page() -> None:
    """Four ships read `Ship · 4 ship / 0 skip`, with no dissent."""
    d = decide([ok("a", 82, "ship"), ok("b", 74, "ship"), ok("c", 78, "ship"), ok("d", 80, "ship")])
    assert (d.decision, d.label, d.dissenters, d.mean_score, d.ship_share) == (
        "ship",
        "Ship · 4 ship / 0 skip",
        [],
        78.5,
        1.0,
    )


def test_minority_is_named_as_dissent() -> None:
    """The personas that voted against the majority are the dissenters."""
    d = decide([ok("a", 82, "ship"), ok("b", 40, "skip"), ok("c", 78, "ship"), ok("d", 80, "ship")])
    assert d.label == "Ship · 3 ship / 1 skip"
    assert d.dissenters == ["b"]


@pytest.mark.parametrize(
    ("scores", "threshold", "expected"),
    [((80, 75, 60, 50), 60.0, "ship"), ((80, 75, 60, 50), 70.0, "skip")],
)
def test_tie_is_broken_by_mean_against_threshold(
    scores: tuple[int, ...], threshold: float, expected: str
) -> None:
    """Two ship, two skip: the mean score (66.25) against the configured threshold decides."""
    verdicts = [
        ok("a", scores[0], "ship"),
        ok("b", scores[1], "ship"),
        ok("c", scores[2], "skip"),
        ok("d", scores[3], "skip"),
    ]
    assert decide(verdicts, threshold=threshold).decision == expected


def test_failed_verdicts_are_not_counted_as_skips() -> None:
    """A failed persona is left out of ship/skip and the mean, and counted as failed."""
    d = decide([ok("a", 90, "ship"), ok("b", 80, "ship"), ok("c", 70, "ship"), failed("d")])
    assert (d.ship, d.skip, d.failed, d.mean_score, d.decision) == (3, 0, 1, 80.0, "ship")


def test_fewer_than_three_successes_is_incomplete() -> None:
    """Two verdicts out of four is not a panel decision."""
    d = decide([ok("a", 90, "ship"), ok("b", 20, "skip"), failed("c"), failed("d")])
    assert d.decision == "incomplete"
    assert d.label == "Incomplete · 1 ship / 1 skip"


def test_all_failed_is_incomplete_without_a_mean() -> None:
    d = decide([failed("a"), failed("b")])
    assert (d.decision, d.mean_score, d.ship_share) == ("incomplete", None, None)


def test_majority_and_label_helpers() -> None:
    assert majority(3, 1, 10.0, 70.0) == "ship"
    assert majority(1, 3, 99.0, 70.0) == "skip"
    assert label("skip", 1, 3) == "Skip · 1 ship / 3 skip"


def test_progress_shows_each_persona_state() -> None:
    """The live table lists every persona with its latest state and detail."""
    from rich.console import Console

    from panel.cli.progress import PanelProgress
    from panel.judge.personas import load_personas

    progress = PanelProgress(load_personas())
    progress.update("builder", "done", "85/100 · ship")
    progress.update("skeptic", "failed", "[bold]HTTP 529[/]")
    console = Console(width=100, record=True)
    console.print(progress)
    text = console.export_text()
    assert "Builder" in text and "done" in text and "85/100 · ship" in text
    assert "[bold]HTTP 529[/]" in text  # details are escaped, not styled
    assert "Founder" in text and "waiting" in text


def test_job_progress_shows_the_batch_api_counts() -> None:
    """While batches are open, the line and the log line carry the API's request counts."""
    from panel.cli.progress import JobProgress

    progress = JobProgress()
    base = {"total": 10, "done": 2, "failed": 0, "tokens": 0, "cost": 0.0}
    progress.update({**base, "batch_processing": 0, "batch_succeeded": 0, "batch_errored": 0})
    assert "batches" not in progress.line() and "batches" not in progress.plain_line()
    progress.update({**base, "batch_processing": 5, "batch_succeeded": 2, "batch_errored": 1})
    for line in (progress.line(), progress.plain_line()):
        assert "batches: 5 processing, 2 succeeded, 1 errored" in line
