"""A tool's history and score trend, from constructed runs."""

from __future__ import annotations

import io

import pytest

from panel.store.history import history, sparkline
from tests.runs import doc, make_run, verdict


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([0, 50, 100], "▁▅█"), ([12, 13, 99], "▁▂█"), ([70, None, 72], "▆·▆"), ([], "")],
)
def test_sparkline_uses_the_absolute_scale(scores: list[int | None], expected: str) -> None:
    """Scores map to eighths of 0-100; a failed verdict is a dot, not a zero."""
    assert sparkline(scores) == expected


def test_history_compares_each_run_with_the_one_before() -> None:
    """Documents added, removed and changed are relative to the previous run in the list."""
    runs = [
        make_run("r1", [verdict("builder", 70)], [doc("a.md", "1"), doc("b.md", "2")]),
        make_run("r2", [verdict("builder", 75)], [doc("a.md", "1"), doc("b.md", "3")]),
        make_run("r3", [verdict("builder", 80)], [doc("a.md", "1"), doc("c.md", "4")]),
    ]
    entries = history(runs).runs
    assert [e.run_id for e in entries] == ["r1", "r2", "r3"]
    assert entries[0].documents_added == ["a.md", "b.md"]
    assert entries[1].documents_changed == ["b.md"] and not entries[1].documents_added
    assert (entries[2].documents_added, entries[2].documents_removed) == (["c.md"], ["b.md"])


def test_trend_keeps_a_gap_for_a_failed_or_missing_persona() -> None:
    """A persona's trend has None where it failed or was not on the panel."""
    runs = [
        make_run("r1", [verdict("builder", 70), verdict("skeptic", 60)]),
        make_run("r2", [verdict("builder", None), verdict("skeptic", 50)]),
        make_run("r3", [verdict("builder", 90)]),
    ]
    assert history(runs).trend == {"builder": [70, None, 90], "skeptic": [60, 50, None]}


def test_a_runs_label_is_never_split_at_80_columns() -> None:
    """`panel history` on an 80-column terminal or into a pipe keeps each run's label on its
    line (regression: `... claude-sonnet-5-5  Ship · 4 ship / 0` with `skip` on the next line)."""
    from rich.console import Console

    from panel.cli.render import history_view

    four = [verdict(p, 76) for p in ("builder", "skeptic", "founder", "futurist")]
    runs = [
        make_run("20261204T183108-c83530", four, [doc("helix.md", "1")]),
        make_run("20261204T183110-fac95b", four, [doc("helix.md", "2")]),
    ]
    h = history(runs)
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(history_view(h, {}))
    text = console.export_text()
    label = h.runs[0].label
    assert label.endswith("skip") and text.count(label) == 2
    assert all(len(line) <= 80 for line in text.splitlines())
    assert text.count("claude-sonnet-5-5") == 2 and "documents: ~helix.md" in text
