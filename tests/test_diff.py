"""The pure diff of two runs: documents, card, personas, sentences."""

from __future__ import annotations

import pytest

from panel.errors import InputError
from panel.store.diff import diff_runs, new_sentences, sentences
from tests.runs import CARD, doc, make_run, verdict


def test_documents_are_matched_by_source_and_compared_by_sha() -> None:
    """Same source and sha is unchanged, a new sha is changed, others are added or removed."""
    old = make_run(
        "r1", [verdict("builder", 70)], [doc("a.md", "1"), doc("b.md", "2"), doc("c.md", "3")]
    )
    new = make_run(
        "r2", [verdict("builder", 70)], [doc("a.md", "1"), doc("b.md", "9"), doc("d.md", "4")]
    )
    got = {d.source: d.status for d in diff_runs(old, new).documents}
    assert got == {"a.md": "unchanged", "b.md": "changed", "d.md": "added", "c.md": "removed"}


def test_changed_document_keeps_both_shas() -> None:
    """A changed document says which content it was and which it is now."""
    old = make_run("r1", [verdict("builder", 70)], [doc("a.md", "1")])
    new = make_run("r2", [verdict("builder", 70)], [doc("a.md", "2")])
    (change,) = diff_runs(old, new).documents_with("changed")
    assert (change.old_sha256, change.new_sha256) == ("1", "2")


def test_score_delta_and_flip() -> None:
    """Per persona: the score delta, and a flip when ship became skip or back."""
    old = make_run("r1", [verdict("builder", 80), verdict("skeptic", 50)])
    new = make_run("r2", [verdict("builder", 55), verdict("skeptic", 58)])
    builder, skeptic = diff_runs(old, new).personas
    assert (builder.delta, builder.flipped, builder.new_decision) == (-25, True, "skip")
    assert (skeptic.delta, skeptic.flipped) == (8, False)


def test_failed_verdict_has_no_delta_and_no_flip() -> None:
    """A failed verdict is not a zero: no delta, no flip."""
    old = make_run("r1", [verdict("builder", 80), verdict("skeptic", 70), verdict("founder", 65)])
    new = make_run("r2", [verdict("builder", None), verdict("skeptic", 70), verdict("founder", 65)])
    builder = diff_runs(old, new).personas[0]
    assert (builder.old_score, builder.new_score, builder.delta, builder.flipped) == (
        80,
        None,
        None,
        False,
    )


def test_new_sentences_are_those_the_old_rationale_lacks() -> None:
    """Only sentences absent from the old rationale are reported, in order."""
    old = "Pricing is clear. The CLI is fast."
    new = "Pricing is clear.  The CLI is fast! Teams now pay per seat. Docs improved?"
    assert new_sentences(old, new) == [
        "The CLI is fast!",
        "Teams now pay per seat.",
        "Docs improved?",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, []),
        ("", []),
        ("One. Two.", ["One.", "Two."]),
        ("No end", ["No end"]),
        ("v1.2 is out. Yes", ["v1.2 is out.", "Yes"]),
    ],
)
def test_sentence_split(text: str | None, expected: list[str]) -> None:
    """Sentences split after terminal punctuation followed by whitespace."""
    assert sentences(text) == expected


def test_card_changes_put_pricing_first() -> None:
    """Only differing card fields are listed, pricing before the rest."""
    old = make_run("r1", [verdict("builder", 70)])
    new = make_run(
        "r2",
        [verdict("builder", 70)],
        card={**CARD, "tagline": "New.", "pricing_summary": "$30 per seat."},
    )
    assert [(c.field, c.old, c.new) for c in diff_runs(old, new).card] == [
        ("pricing_summary", "Free; teams $20 per seat.", "$30 per seat."),
        ("tagline", "Reviews from a backlog.", "New."),
    ]


def test_label_before_and_after() -> None:
    """The panel label and mean are given before and after."""
    old = make_run("r1", [verdict("builder", 80), verdict("skeptic", 70), verdict("founder", 65)])
    new = make_run("r2", [verdict("builder", 40), verdict("skeptic", 30), verdict("founder", 65)])
    diff = diff_runs(old, new)
    assert (diff.old_label, diff.new_label) == ("Ship · 3 ship / 0 skip", "Skip · 1 ship / 2 skip")
    assert (diff.old_mean, diff.new_mean) == (71.7, 45.0)


def test_runs_of_different_tools_are_refused() -> None:
    """Diffing two tools' runs is an input error naming both tools."""
    with pytest.raises(InputError, match=r"different tools.*'acme'.*'other'"):
        diff_runs(
            make_run("r1", [verdict("builder", 70)]),
            make_run("r2", [verdict("builder", 70)], slug="other"),
        )
