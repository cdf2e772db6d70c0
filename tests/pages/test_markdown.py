"""The Markdown pages parse as Markdown: headings and table rows come back, hostile text stays text."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from panel.model import Votes
from panel.pages import compare_markdown, index_markdown, methodology_markdown, review_markdown


def tokens(text: str):
    return MarkdownIt("commonmark").enable("table").parse(text)


def headings(text: str) -> list[str]:
    toks = tokens(text)
    return [toks[i + 1].content for i, t in enumerate(toks) if t.type == "heading_open"]


def table_rows(text: str) -> list[list[str]]:
    rows, row = [], None
    toks = tokens(text)
    for i, t in enumerate(toks):
        if t.type == "tr_open":
            row = []
        elif t.type in ("th_open", "td_open"):
            row.append(toks[i + 1].content)
        elif t.type == "tr_close":
            rows.append(row)
    return rows


def test_review_headings(acme, acme_history, personas):
    """The review has the card, verdict, scorecard (one heading per persona), history and run."""
    found = headings(review_markdown(acme, acme_history, personas, Votes()))
    assert found == [
        "Acme: Ship",
        "About Acme",
        "Reviewer scorecard",
        "Builder",
        "Skeptic",
        "Founder",
        "Futurist",
        "Score history",
        "About this run",
        "Sources",
    ]


def test_review_values(acme, acme_history, personas):
    """The review's verdict, community label, scorecard line and history table come through."""
    text = review_markdown(acme, acme_history, personas, Votes(ship=12, skip=3))
    assert "- Panel: 4 ship / 0 skip" in text and "- Community: 12 ship / 3 skip" in text
    assert "**82/100 · ship**" in text
    assert ["2026-10-01", "70", "60", "failed", "75"] in table_rows(text)


def test_compare_decision_rows_in_seed_order(acme, beta, personas):
    """The Decision table rows are exactly the seed's, in its order."""
    rows = table_rows(compare_markdown(acme, beta, personas, Votes(), Votes()))
    assert rows[0] == ["Decision", "Acme", "Beta"]
    assert [r[0] for r in rows[1:]] == [
        "Panel verdict",
        "Community",
        "Pricing",
        "Pricing read",
        "Best for",
        "Category",
        "Mean score",
        "Spread",
        "Reviewed",
    ]
    assert rows[1][1:] == ["Ship · 4 ship / 0 skip", "Ship · 3 ship / 1 skip"]


def test_index_table(acme, beta):
    """The index table has one row per tool with label, mean, category and date."""
    rows = table_rows(index_markdown([acme, beta]))
    assert rows[1][1:] == ["Ship · 4 ship / 0 skip", "78.5", "Developer Tools", "2026-11-25"]
    assert len(rows) == 3


def test_methodology_lists_lens(personas):
    """The methodology has a heading per reviewer and its lens as a numbered list."""
    text = methodology_markdown(personas, {"system": 1})
    assert {p.name for p in personas} <= set(headings(text))
    items = [t for t in tokens(text) if t.type == "list_item_open"]
    assert len(items) >= 4 * len(personas)


@pytest.mark.parametrize("kind", ["review", "compare", "index"])
def test_hostile_text_makes_no_markup(hostile, acme, personas, kind):
    """Hostile text yields no raw HTML, no link to javascript:, no extra table cells."""
    text = {
        "review": lambda: review_markdown(hostile, [hostile], personas, Votes()),
        "compare": lambda: compare_markdown(hostile, acme, personas, Votes(), Votes()),
        "index": lambda: index_markdown([hostile, acme]),
    }[kind]()
    flat = [c for t in tokens(text) for c in [t, *(t.children or [])]]
    assert not [t for t in flat if t.type in ("html_inline", "html_block")]
    assert not [t for t in flat if t.type == "link_open" and "alert" in str(t.attrGet("href"))]
    assert any("<script>alert(1)</script>" in t.content for t in flat if t.type == "text")
    widths = {len(r) for r in table_rows(text)}
    assert len(widths) <= 2  # header and body rows of each table agree on their width


def test_score_line_is_its_own_paragraph(acme, personas):
    """A persona's `**82/100 · ship**` is a paragraph apart from its rationale (regression: a soft
    break ran them into one paragraph)."""
    toks = tokens(review_markdown(acme, [acme], personas, Votes()))
    inline = [t.content for t in toks if t.type == "inline"]
    assert "**82/100 · ship**" in inline and "builder says: Fine." in inline
