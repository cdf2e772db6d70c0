"""The conflict-of-interest note: a tool from the reviewing model's own vendor says so on its page
(HTML and Markdown), in the index, the feed and the terminal scorecard; other tools never do.

A name matches by whole words ("Claude Code", "claude-files"), never inside another word
("Claudette", "ClaudeKit"); a source matches by host or subdomain (docs.anthropic.com, not
notanthropic.com)."""

from __future__ import annotations

import lxml.html
import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from panel.cli.render import scorecard
from panel.judge.conflict import conflict, on_host
from panel.model import Run, Votes
from panel.pages import atom_feed, compare_html, index_html, review_html, review_markdown
from tests.runs import CARD, doc, make_run, verdict

NOTE = "This tool comes from Anthropic"


def named(name: str, *, model: str = "claude-sonnet-5-5", docs: list | None = None) -> Run:
    run = make_run("r-x", four(), docs, slug="x", card={**CARD, "name": name})
    return run.model_copy(update={"model": model})


def four():
    return [
        verdict(p, s)
        for p, s in zip(
            ("builder", "skeptic", "founder", "futurist"), (80, 70, 60, 50), strict=True
        )
    ]


def notes(html: str) -> list[str]:
    tree = lxml.html.fromstring(html)
    return [" ".join(e.text_content().split()) for e in tree.find_class("conflict")]


@pytest.mark.parametrize(
    "name", ["Claude Files API", "Claude Code", "claude-files", "Anthropic Console"]
)
def test_note_for_an_anthropic_tool(name, personas):
    """A tool named for Anthropic or Claude gets one plain note at the top of its page."""
    html = review_html(named(name), [], personas, Votes())
    (note,) = notes(html)
    assert note.startswith("Conflict of interest.") and NOTE in note and "claude-sonnet-5-5" in note
    hero = lxml.html.fromstring(html).find_class("hero")[0]
    assert hero.find_class("conflict"), "the note sits beside the verdict headline"


@pytest.mark.parametrize(
    "name", ["Acme", "Claudette", "ClaudeKit", "McClaude Studio", "Anthropical"]
)
def test_no_note_for_other_tools(name, personas):
    """A name that merely contains the letters inside another word is not Anthropic's."""
    assert notes(review_html(named(name), [], personas, Votes())) == []


def test_note_from_the_source_host(personas):
    """A tool whose source page is on an Anthropic domain is Anthropic's, whatever its name."""
    page = doc("https://docs.anthropic.com/en/docs/build-with-claude/files", "f1")
    page = page.model_copy(update={"origin": "url"})
    run = named("Files API", docs=[page])
    assert conflict(run) is not None and "docs.anthropic.com" in conflict(run).evidence
    assert len(notes(review_html(run, [], personas, Votes()))) == 1


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://anthropic.com/x", "anthropic.com"),
        ("https://docs.anthropic.com/x", "docs.anthropic.com"),
        ("https://claude.ai/", "claude.ai"),
        ("https://notanthropic.com/", None),
        ("https://anthropic.com.evil.example/", None),
    ],
)
def test_host_match_is_the_domain_or_a_subdomain(url, host):
    """Only the vendor's own domains and their subdomains match."""
    assert on_host(url, ("anthropic.com", "claude.ai")) == host


def test_no_note_when_another_vendors_model_reviews(personas):
    """The conflict is the model's vendor reviewing its own tool: another model has none."""
    assert conflict(named("Claude Code", model="llama-4-70b")) is None


def test_note_in_markdown(personas):
    """The Markdown page carries the same note, as a blockquote under the headline."""
    text = review_markdown(named("Claude Code"), [], personas, Votes())
    tokens = MarkdownIt("commonmark").parse(text)
    opened = [i for i, t in enumerate(tokens) if t.type == "blockquote_open"]
    assert opened and NOTE in tokens[opened[0] + 2].content
    assert NOTE not in review_markdown(named("Acme"), [], personas, Votes())


def test_note_on_compare_index_and_feed(personas):
    """The comparison card, the index row and the feed entry of the Anthropic tool say so."""
    claude, acme = named("Claude Code"), make_run("r-a", four())
    assert len(notes(compare_html(claude, acme, personas, Votes(), Votes()))) == 1
    index = lxml.html.fromstring(index_html([claude, acme]))
    tags = index.find_class("conflict-tag")
    assert len(tags) == 1 and NOTE in tags[0].get("title")
    assert NOTE.encode() in atom_feed([claude]) and NOTE.encode() not in atom_feed([acme])


def test_note_on_the_terminal_scorecard(personas):
    """`panel review`'s scorecard prints the note under the headline, and only for that tool."""
    names = {p.id: p.name for p in personas}

    def shown(run: Run) -> str:
        console = Console(width=100, record=True, color_system=None)
        console.print(scorecard(run, names))
        return " ".join(console.export_text().replace("│", " ").split())

    assert NOTE in shown(named("Claude Code")) and NOTE not in shown(named("Acme"))
