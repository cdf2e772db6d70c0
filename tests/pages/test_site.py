"""build_site writes every page from the store, deterministically, and only what changed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

from panel.errors import InputError
from panel.pages import build_site, parse_pairs
from panel.serve.newsletter import build_digest
from panel.store.sqlite import Store

EXPECTED = {
    "index.html",
    "methodology.html",
    "feed.xml",
    "tools/acme.html",
    "tools/beta.html",
    "compare/acme-vs-beta.html",
}


@pytest.fixture
def store(tmp_path, acme_history, beta):
    store = Store(tmp_path / "home")
    for run in [*acme_history, beta]:
        store.save_run(run)
    yield store
    store.close()


def build(store, out, personas, pairs=(("Acme", "beta"),)):
    return build_site(store, out, personas, {"system": 1, "persona": 1}, list(pairs))


def files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def test_writes_every_page(store, tmp_path, personas):
    """Index, methodology, feed, one review per tool and one page per pair are written."""
    report = build(store, tmp_path / "site", personas)
    assert set(report.written) == EXPECTED and files(tmp_path / "site") == EXPECTED


def test_second_build_writes_nothing(store, tmp_path, personas):
    """Building an unchanged store again rewrites no file."""
    build(store, tmp_path / "site", personas)
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "site").rglob("*")}
    report = build(store, tmp_path / "site", personas)
    assert report.written == [] and set(report.unchanged) == EXPECTED
    assert mtimes == {p: p.stat().st_mtime_ns for p in (tmp_path / "site").rglob("*")}


def test_a_vote_rewrites_only_its_pages(store, tmp_path, personas):
    """A new community vote for Beta rewrites Beta's review and the comparison, nothing else."""
    build(store, tmp_path / "site", personas)
    store.set_vote("beta", "alice", "ship")
    report = build(store, tmp_path / "site", personas)
    assert set(report.written) == {"tools/beta.html", "compare/acme-vs-beta.html"}


def test_review_page_uses_latest_run_and_history(store, tmp_path, personas):
    """A tool's page shows its latest run, and its chart covers all its runs."""
    build(store, tmp_path / "site", personas)
    html = (tmp_path / "site/tools/acme.html").read_text(encoding="utf-8")
    assert "r-acme-2" in html and "2026-10-01" in html


def test_every_internal_link_resolves(store, tmp_path, personas):
    """Every relative href in the built site points at a file that exists."""
    out = tmp_path / "site"
    build(store, out, personas)
    for page in out.rglob("*.html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            if not href.startswith(("http://", "https://")):
                assert (page.parent / href).resolve().is_file(), (page, href)


def test_feed_has_one_entry_per_tool(store, tmp_path, personas):
    """The built feed parses and has one entry per tool, not per run."""
    build(store, tmp_path / "site", personas)
    root = ET.parse(tmp_path / "site/feed.xml").getroot()
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 2


SITE = "https://verdicts.example/"


def test_unknown_tool_in_pair(store, tmp_path, personas):
    """A pair naming a tool with no runs is an InputError, and nothing is written."""
    with pytest.raises(InputError, match="nope"):
        build(store, tmp_path / "site", personas, pairs=[("acme", "nope")])
    assert not (tmp_path / "site").exists()


def test_an_unknown_tool_in_a_pair_names_the_comparison(store, tmp_path, personas):
    """The error says which line of the pairs file to fix (regression: it named only the tool,
    as if it came from the command line)."""
    with pytest.raises(InputError, match=r"^comparison 'acme' vs 'nope': no run or tool 'nope'"):
        build(store, tmp_path / "site", personas, pairs=[("acme", "nope")])


def test_the_digest_names_the_comparison_of_an_unknown_tool(store, personas):
    """`panel digest --pairs` says the same as `panel site --pairs`."""
    with pytest.raises(InputError, match=r"^comparison 'nope' vs 'acme': no run or tool 'nope'"):
        build_digest(store, personas, timedelta(days=7), base_url=SITE, pairs=[("nope", "acme")])


@pytest.mark.parametrize(
    "line",
    ["Acme vs Beta", "Acme VS Beta", "Acme, Beta", "Acme Beta", "  Acme\tBeta  "],
)
def test_parse_pairs_separators(tmp_path, line):
    """Two names a line, split by ' vs ', a comma or whitespace."""
    path = tmp_path / "pairs.txt"
    path.write_text(line + "\n", encoding="utf-8")
    assert parse_pairs(path) == [("Acme", "Beta")]


def test_parse_pairs_names_with_spaces(tmp_path):
    """' vs ' and commas allow names with spaces; comments and blank lines are skipped."""
    path = tmp_path / "pairs.txt"
    path.write_text(
        "# seed pairs\n\nClaude Files API vs SmolVLM2-2B\nClaude Files API, Acme\n",
        encoding="utf-8",
    )
    assert parse_pairs(path) == [("Claude Files API", "SmolVLM2-2B"), ("Claude Files API", "Acme")]


@pytest.mark.parametrize("bad", ["Acme", "Acme Beta Gamma", "Acme vs", ", Beta"])
def test_parse_pairs_bad_line_names_its_number(tmp_path, bad):
    """A line without exactly two names is an InputError naming the line number."""
    path = tmp_path / "pairs.txt"
    path.write_text(f"# header\nAcme vs Beta\n{bad}\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3"):
        parse_pairs(path)
