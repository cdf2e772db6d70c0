"""The review page: every section with the right values, failure shown as failure, hostile text inert."""

from __future__ import annotations

import pytest

from panel.model import Votes
from panel.pages import review_html
from tests.runs import make_run


@pytest.fixture
def page(acme, acme_history, personas, parse):
    return parse(review_html(acme, acme_history, personas, Votes()))


def test_tool_card_fields(page):
    """The card shows name, badge letter, category, tagline, description, pricing and best-for."""
    for value in (
        "Acme",
        "Developer Tools",
        "Reviews from a backlog.",
        "Acme turns a backlog into reviews.",
        "Free; teams $20 per seat.",
        "Small teams.",
    ):
        assert value in page.text


def test_panel_verdict_values(page):
    """The top of the page shows the word, the counts, the mean score and the spread, once each."""
    hero = page.text.split("About Acme", 1)[0]
    for value in ("Ship", "Panel 4 ship / 0 skip", "Mean score 78.5/100", "Spread 8 points"):
        assert value in hero
    assert page.text.count("4 ship / 0 skip") == 1


def test_scorecard_row(page):
    """Each persona gets `82/100 · ship` once, a bar that only draws it, and its paragraph."""
    assert "Builder 82/100 · ship builder says: Fine." in page.text
    assert page.text.count("82/100") == 1
    bars = [e for e in page.tags("svg") if "bar" in e.attrs.get("class", "").split()]
    assert len(bars) == 4 and all(b.attrs.get("aria-hidden") == "true" for b in bars)


@pytest.mark.parametrize(
    ("votes", "label"),
    [(Votes(), "No community votes yet"), (Votes(ship=12, skip=3), "12 ship / 3 skip")],
)
def test_community_votes(acme, personas, parse, votes, label):
    """The community tally reads as the seed does, votes or none."""
    assert label in parse(review_html(acme, [acme], personas, votes)).text


def test_dissenters_by_display_name(personas, parse, panel_of_four):
    """Dissenters are named as readers know them (Skeptic), not by persona id."""
    run = make_run("r1", panel_of_four((82, 40, 78, 80)))
    assert "Dissent: Skeptic" in parse(review_html(run, [run], personas, Votes())).text


def test_failed_verdict_is_not_a_skip(personas, parse, panel_of_four):
    """A failed verdict reads `failed: <reason>`, with no score and no skip."""
    run = make_run("r1", panel_of_four((82, 74, None, 80)))
    text = parse(review_html(run, [run], personas, Votes())).text
    scorecard = text.split("Reviewer scorecard", 1)[1].split("Score history", 1)[0]
    founder = scorecard.split("Founder", 1)[1].split("Futurist", 1)[0]
    assert "failed: bad" in founder
    assert "skip" not in founder and "0/100" not in founder


def test_injection_warning_visible(personas, parse, panel_of_four):
    """A verdict that suspected injection shows a warning quoting the evidence."""
    verdicts = panel_of_four()
    verdicts[1] = verdicts[1].model_copy(
        update={"injection_suspected": True, "injection_evidence": "IGNORE PREVIOUS"}
    )
    run = make_run("r1", verdicts)
    page = parse(review_html(run, [run], personas, Votes()))
    notes = [e for e in page.elements if e.attrs.get("class") == "warning"]
    assert len(notes) == 1
    assert "Possible prompt injection in the sources: “IGNORE PREVIOUS”" in page.text


def test_run_facts(personas, parse, acme):
    """The run's date, model and cost are shown."""
    run = acme.model_copy(update={"cost_usd": 0.4213})
    text = parse(review_html(run, [run], personas, Votes())).text
    assert "Reviewed 2026-11-25" in text and "Model claude-sonnet-5-5" in text
    assert "Cost $0.42" in text


def test_sources_link_only_http(page):
    """An http(s) source is a link; a file source is plain text."""
    hrefs = [a.attrs["href"] for a in page.tags("a")]
    assert "https://acme.example/product" in hrefs
    assert "notes.md (file)" in page.text
    assert not any("notes.md" in h for h in hrefs)


def test_chart_is_readable_without_colour(page):
    """The chart has axis labels, a legend naming each persona, a number on each point."""
    svg_text = page.text.split("Score history", 1)[1]
    for name in ("Builder", "Skeptic", "Founder", "Futurist"):
        assert name in svg_text
    for score in ("70", "60", "75", "82", "74", "78", "80", "100", "0"):
        assert score in svg_text.split()
    dashes = {e.attrs.get("stroke-dasharray", "") for e in page.tags("polyline")}
    assert len(dashes) >= 3


def test_chart_failed_score_is_a_gap(page):
    """The founder failed in the first run: one point for it, not a zero."""
    founder_points = [e for e in page.tags("polygon") if e.attrs.get("fill") == "#2d7a3a"]
    assert len(founder_points) == 2 * 2  # one point plus its legend marker, in both layouts
    assert "failed" in page.text  # the score table says so in words


def test_links_go_up_from_tools(page):
    """From tools/<slug>.html the site links are ../index.html, ../methodology.html, ../feed.xml."""
    hrefs = {a.attrs["href"] for a in page.tags("a")}
    assert {"../index.html", "../methodology.html", "../feed.xml"} <= hrefs


def test_no_script_and_strict_csp(page):
    """The review page has no script and its policy allows none."""
    assert page.scripts == []
    csp = page.csp()
    assert "default-src 'none'" in csp and "script-src 'none'" in csp
