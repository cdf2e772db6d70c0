"""`panel list` and `panel cost` as plain aligned lines: for pipes, files and stores too large for a table."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from panel.cli import lines
from panel.cli.cost import cost_lines
from panel.cli.render import INJECTION_MARK, tools_lines
from panel.judge.spend import Report, Spend
from panel.store.sqlite import ToolRow

LONG = "An Extraordinarily Long Tool Name That Goes On And On"


def row(name: str, slug: str, *, flagged: bool = False) -> ToolRow:
    return ToolRow(
        slug=slug,
        name=name,
        label="Ship · 3 ship / 1 skip",
        decision="ship",
        mean_score=74.5,
        created_at="2026-11-25T13:05:01+00:00",
        run_id="r1",
        runs=2,
        injection_suspected=flagged,
    )


def test_tool_lines_fit_80_columns_with_long_names():
    """A long tool name is shortened with an ellipsis so every line keeps to 80 columns."""
    out = tools_lines([row(LONG, "long-tool"), row("Acme", "acme")], 80)
    assert all(len(line) <= 80 for line in out)
    assert "…" in out[1] and out[2].startswith("Acme ")


def test_tool_lines_never_cut_the_slug():
    """The slug, the key other commands take, is printed whole however narrow the width."""
    slug = "a-slug-that-is-long-enough-to-matter"
    out = tools_lines([row(LONG, slug)], 40)
    assert slug in out[1]


def test_tool_lines_mark_suspected_injection():
    """The injection mark the table shows is on the flagged tool's line only."""
    out = tools_lines([row("Evil", "evil", flagged=True), row("Good", "good")], 80)
    assert INJECTION_MARK in out[1] and INJECTION_MARK not in out[2]


def test_tool_lines_align_columns():
    """Each column starts at the same place on every line (the header's)."""
    out = tools_lines([row("A", "a"), row("Much Longer", "much-longer")], 80)
    start = out[0].index("slug")
    assert out[1][start:].startswith("a ") and out[2][start:].startswith("much-longer")


def test_tool_lines_strip_control_characters():
    """A name with terminal escapes is printed without them."""
    out = tools_lines([row("Evil\x1b[2J\x07", "evil")], 80)
    assert "\x1b" not in "".join(out) and "\x07" not in "".join(out)


def spend(runs: int, usd: float) -> Spend:
    return Spend(
        runs=runs,
        input_tokens=3600 * runs,
        output_tokens=1400 * runs,
        cache_read_input_tokens=16000 * runs,
        cost_usd=usd,
        list_usd=usd * 1.3,
        caching_saved_usd=usd * 0.7,
        batches_saved_usd=0.0,
    )


def test_cost_lines_keep_every_label_whole_in_sections():
    """Dollars for tools, then models, then the total, a blank line between; then tokens per
    model and in total; no label is cut, and no line passes 80 columns."""
    tools = {f"tool-{i:05d}-with-a-long-slug": spend(1, 0.0421) for i in range(3)}
    report = Report(
        tools=tools, models={"claude-sonnet-5-5": spend(3, 0.1263)}, total=spend(3, 0.1263)
    )
    out = cost_lines(report)
    blank = [i for i, line in enumerate(out) if not line.strip()]
    assert len(blank) == 3
    dollars, tokens = out[: blank[-1]], out[blank[-1] + 1 :]
    assert all(any(line.startswith(slug) for line in dollars) for slug in tools)
    assert dollars[-1].startswith("total") and "$0.1263" in dollars[-1]
    assert "list price" in dollars[1] and "caching" in dollars[0] and tokens[0] == "Tokens"
    assert tokens[-1].startswith("total") and "output" in tokens[1]
    assert max(len(line) for line in out) <= 80


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0"), (9999, "9,999"), (19600, "19.6k"), (23_520_000, "23.5M"), (1_200_000_000, "1.2G")],
)
def test_count_is_short(n, text):
    """Token counts keep to six characters: digits up to 9,999, then k, M, G."""
    assert lines.count(n) == text


@pytest.mark.parametrize(
    ("terminal", "rows", "table"),
    [(True, 10, True), (True, lines.TABLE_ROWS + 1, False), (False, 10, False)],
)
def test_a_table_only_on_a_terminal_and_not_too_long(terminal, rows, table):
    """A rich table on a terminal up to TABLE_ROWS rows; plain lines otherwise."""
    console = Console(file=io.StringIO(), force_terminal=terminal)
    assert lines.as_table(console, rows) is table
