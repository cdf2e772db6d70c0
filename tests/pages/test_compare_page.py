"""The comparison page follows the seed: title, lede, two header cards, Decision table, scorecard."""

from __future__ import annotations

import pytest

from panel.model import Votes
from panel.pages import compare_html

LEDE = (
    "Which one should you ship with? Here is the side-by-side panel verdict, pricing read, "
    "reviewer split, and community vote comparison."
)


@pytest.fixture
def page(acme, beta, personas, parse):
    return parse(compare_html(acme, beta, personas, Votes(), Votes(ship=12, skip=3)))


def test_title_and_lede(page):
    """The page is titled `A vs B` and carries the seed's lede line."""
    assert [h for h in page.tags("h1")]
    assert "Acme vs Beta" in page.text and LEDE in page.text


def test_header_cards(page):
    """Each header card reads badge, category, name, the verdict, tagline, then description; the
    community tally and the counts are in the Decision table only, once."""
    assert (
        "A Developer Tools Acme Panel verdict: Ship Reviews from a backlog. "
        "Acme turns a backlog into reviews."
    ) in page.text
    assert "B Vision Models Beta Panel verdict: Ship Runs on phones." in page.text
    assert page.text.count("12 ship / 3 skip") == 1


def test_decision_rows_in_seed_order(page):
    """The Decision table starts with the seed's rows in its order (Panel verdict, Community,
    Pricing, Best for, Category) and adds where the pricing was read, the scores and the run."""
    rows = [e for e in page.tags("th") if e.attrs.get("scope") == "row"]
    decision = page.text.split("Decision Decision", 1)[1].split("Reviewer scorecard", 1)[0]
    names = ["Panel verdict", "Community", "Pricing", "Best for", "Category", "Mean score"]
    names += ["Spread", "Reviewed"]
    assert len(rows) == len(names) + 1  # and "Pricing read"
    positions = [decision.index(n) for n in names]
    assert positions == sorted(positions)


def test_decision_row_values(page):
    """Each Decision row holds both tools' values side by side."""
    text = page.text
    assert "Panel verdict Ship · 4 ship / 0 skip Ship · 3 ship / 1 skip" in text
    assert "Community No community votes yet 12 ship / 3 skip" in text
    assert "Pricing Free; teams $20 per seat. Apache 2.0" in text
    assert "Best for Small teams. Hobbyists." in text
    assert "Category Developer Tools Vision Models" in text


def test_scorecard_side_by_side(page):
    """Under each persona, both tools' verdicts appear, in the panel's order."""
    card = page.text.split("Reviewer scorecard", 1)[1]
    assert "Builder Acme 82/100 · ship" in card and "Beta 85/100 · ship" in card
    assert "Skeptic Acme 74/100 · ship" in card and "Beta 40/100 · skip" in card
    order = [card.index(n) for n in ("Builder", "Skeptic", "Founder", "Futurist")]
    assert order == sorted(order)


def test_links_to_both_reviews(page):
    """The column headings link to each tool's review page, one level up from compare/."""
    hrefs = {a.attrs["href"] for a in page.tags("a")}
    assert {"../tools/acme.html", "../tools/beta.html", "../index.html"} <= hrefs
