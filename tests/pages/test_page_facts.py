"""Every review and comparison page states the model, the date, the spread between the highest and
lowest persona score, and when the pricing's source was fetched; the verdict is the headline, and
nothing on the page is said twice."""

from __future__ import annotations

import lxml.html
import pytest
from markdown_it import MarkdownIt

from panel.model import Votes
from panel.pages import compare_html, compare_markdown, index_html, review_html, review_markdown
from panel.pages.facts import spread
from tests.runs import CARD, make_run


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def key_facts(html: str) -> dict[str, str]:
    """The hero's facts, by their label."""
    tree = lxml.html.fromstring(html)
    (dl,) = tree.find_class("keyfacts")
    return {text_of(div.find("dt")): text_of(div.find("dd")) for div in dl.findall("div")}


def test_review_states_model_date_and_spread(acme, acme_history, personas):
    """The hero names the model, the run's day and the spread with who gave each end."""
    facts = key_facts(review_html(acme, acme_history, personas, Votes()))
    assert facts["Model"] == "claude-sonnet-5-5"
    assert facts["Reviewed"] == "2026-11-25"
    assert facts["Spread"] == "8 points (Skeptic 74 to Builder 82)"


def test_pricing_says_when_its_source_was_fetched(acme, personas):
    """The pricing line names the fetched page's host and the day it was fetched."""
    tree = lxml.html.fromstring(review_html(acme, [acme], personas, Votes()))
    (line,) = tree.find_class("source-date")
    assert text_of(line) == "Pricing read from acme.example, fetched 2026-11-25"


def test_pricing_from_a_file_says_it_was_not_fetched(beta, personas):
    """Pricing read from a given file says so, with the run's day, rather than a fetch date."""
    tree = lxml.html.fromstring(review_html(beta, [beta], personas, Votes()))
    (line,) = tree.find_class("source-date")
    assert text_of(line) == "Pricing read from acme.md, as given on 2026-11-26 (not fetched)"


@pytest.mark.parametrize(
    ("scores", "text"),
    [
        ((82, 74, 78, 80), "8 points (Skeptic 74 to Builder 82)"),
        ((70, 70, 70, 70), "0 points (all 70)"),
        ((70, 71, None, None), "1 point (Builder 70 to Skeptic 71)"),
        ((70, None, None, None), "— (fewer than two scores)"),
    ],
)
def test_spread_counts_only_scored_verdicts(panel_of_four, personas, scores, text):
    """The spread is highest minus lowest of the verdicts that have a score; a failed one is out."""
    run = make_run("r1", panel_of_four(scores))
    assert spread(run, {p.id: p.name for p in personas}).text == text


def test_review_markdown_states_the_same_facts(acme, personas):
    """The Markdown page lists the model, the day, the spread and the pricing's fetch date."""
    text = review_markdown(acme, [acme], personas, Votes())
    items = [t.content for t in MarkdownIt("commonmark").parse(text) if t.type == "inline"]
    assert "Reviewed: 2026-11-25 by claude-sonnet-5-5" in items
    assert "Spread: 8 points (Skeptic 74 to Builder 82)" in items
    assert "acme.example, fetched 2026-11-25" in text


def test_compare_states_model_date_spread_and_pricing_date(acme, beta, personas):
    """The Decision table has a row each for the spread, the pricing's source and the run."""
    tree = lxml.html.fromstring(compare_html(acme, beta, personas, Votes(), Votes()))
    rows = {
        text_of(tr.find("th")): [text_of(td) for td in tr.findall("td")]
        for tr in tree.xpath("//table[@class='decision']/tbody/tr")
    }
    assert rows["Spread"] == [
        "8 points (Skeptic 74 to Builder 82)",
        "45 points (Skeptic 40 to Builder 85)",
    ]
    assert rows["Pricing read"][0] == "acme.example, fetched 2026-11-25"
    assert rows["Reviewed"] == [
        "2026-11-25 by claude-sonnet-5-5",
        "2026-11-26 by claude-sonnet-5-5",
    ]
    md = compare_markdown(acme, beta, personas, Votes(), Votes())
    assert "| Spread | 8 points (Skeptic 74 to Builder 82) |" in md


def test_the_verdict_is_the_headline(acme, beta, personas):
    """The page's one h1 is the tool's name with the verdict word, large, before anything else."""
    tree = lxml.html.fromstring(review_html(beta, [beta], personas, Votes()))
    (h1,) = tree.xpath("//h1")
    assert text_of(h1) == "Beta: Ship"
    word = h1.find_class("verdict-word")
    assert word and "verdict-xl" in word[0].classes and text_of(word[0]) == "Ship"
    first_section = tree.xpath("//main/*")[0]
    assert first_section.tag == "header" and first_section.find(".//h1") is not None


def test_the_comparison_headline_is_its_verdict(acme, beta, personas, panel_of_four):
    """A comparison's h1 says what to do with both tools; a split verdict names each."""
    slow = make_run(
        "r-s", panel_of_four((40, 30, 70, 20)), slug="slow", card={**CARD, "name": "Slow"}
    )
    cases = [((acme, beta), "Ship both Acme and Beta"), ((slow, acme), "Ship Acme, skip Slow")]
    for (a, b), headline in cases:
        tree = lxml.html.fromstring(compare_html(a, b, personas, Votes(), Votes()))
        assert [text_of(h) for h in tree.xpath("//h1")] == [headline]


def test_nothing_is_said_twice(acme, acme_history, personas):
    """The tagline, the community tally and each persona's score appear once on the review page."""
    tree = lxml.html.fromstring(review_html(acme, acme_history, personas, Votes(ship=12, skip=3)))
    main = text_of(tree.xpath("//main")[0])
    visible = main.split("Score history", 1)[0]  # the history repeats scores by design, as a table
    assert visible.count("Reviews from a backlog.") == 1
    assert visible.count("12 ship / 3 skip") == 1
    for score in ("82/100", "74/100", "78/100", "80/100"):
        assert visible.count(score) == 1


def test_compare_says_nothing_twice(acme, beta, personas):
    """On a comparison, each tool's tagline and community tally appear once."""
    tree = lxml.html.fromstring(compare_html(acme, beta, personas, Votes(), Votes(ship=12, skip=3)))
    text = text_of(tree.xpath("//main")[0])
    assert text.count("Reviews from a backlog.") == 1 and text.count("Runs on phones.") == 1
    assert text.count("12 ship / 3 skip") == 1


def test_index_shows_the_word_once(acme, beta):
    """An index row reads `Ship 4 ship / 0 skip`, never `Ship Ship · ...`."""
    tree = lxml.html.fromstring(index_html([acme, beta]))
    cells = [text_of(tr.findall("td")[1]) for tr in tree.xpath("//table[@id='tools']/tbody/tr")]
    assert cells == ["Ship 4 ship / 0 skip", "Ship 3 ship / 1 skip"]


@pytest.mark.parametrize(
    ("origin", "name", "said"),
    [
        ("description", "description.txt", "the reviewer's description"),
        ("stdin", "stdin.txt", "standard input"),
    ],
)
def test_pricing_from_pasted_text_names_it_as_the_sources_list_does(origin, name, said):
    """Pricing read from `--description` or stdin names that, not an internal file name the user
    never gave (regression: "Pricing read from description.txt")."""
    from panel.model.run import DocumentRef
    from panel.pages.facts import pricing_source

    run = make_run("r1", [])
    pasted = DocumentRef(
        name=name,
        title=name,
        mime="text/plain",
        origin=origin,
        source="-",
        size_bytes=4,
        sha256="x",
        file_id="file_x",
    )
    run = run.model_copy(update={"documents": [pasted]})
    assert pricing_source(run) == f"{said}, as given on 2026-11-25 (not fetched)"
