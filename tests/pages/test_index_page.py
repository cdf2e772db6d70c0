"""The index lists every tool in a sortable, filterable table and links to every page."""

from __future__ import annotations

import pytest

from panel.pages import index_html


@pytest.fixture
def page(acme, beta, parse):
    return parse(index_html([beta, acme], [(acme, beta)]))


def test_row_per_tool(page):
    """Each tool's row has its label, mean score, category and date."""
    rows = [e for e in page.tags("tr") if "data-category" in e.attrs]
    assert [r.attrs["data-category"] for r in rows] == ["Vision Models", "Developer Tools"]
    assert "Ship 4 ship / 0 skip 78.5 Developer Tools 2026-11-25" in page.text
    assert "Ship 3 ship / 1 skip 69.8 Vision Models 2026-11-26" in page.text


def test_links(page):
    """Links reach each review, each comparison, the methodology and the feed."""
    hrefs = {a.attrs["href"] for a in page.tags("a")}
    assert {"tools/acme.html", "tools/beta.html", "compare/acme-vs-beta.html"} <= hrefs
    assert {"methodology.html", "feed.xml", "index.html"} <= hrefs


def test_category_filter_options(page):
    """The category <select> offers every category once, plus all."""
    options = [o.attrs["value"] for o in page.tags("option")]
    assert options == ["", "Developer Tools", "Vision Models"]


def test_sortable_headers(page):
    """Each column heading is a button the sorter binds to; numbers sort as numbers."""
    buttons = [b.attrs for b in page.tags("button")]
    assert [b["data-col"] for b in buttons] == ["0", "1", "2", "3", "4"]
    assert buttons[2]["data-type"] == "number"


def test_sorter_uses_no_eval_or_inner_html(page):
    """The one script builds nothing from strings: no eval, innerHTML or document.write."""
    (script,) = page.scripts
    for forbidden in ("eval(", "innerHTML", "outerHTML", "document.write", "Function("):
        assert forbidden not in script


def test_empty_store(parse):
    """An index with no tools says so instead of showing an empty table."""
    assert "No tools reviewed yet." in parse(index_html([])).text
