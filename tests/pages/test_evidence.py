"""Each verdict's quotes on the pages: beside the verdict, linked to their source, misses flagged."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from markdown_it import MarkdownIt

from panel.model import DocumentRef, Evidence, FetchInfo, Run, Votes
from panel.pages import atom_feed, compare_html, review_html, review_markdown
from tests.runs import doc, make_run, verdict

HOSTILE_SCRIPT = "<script>alert(1)</script>"
URL = "https://acme.example/product"
FOUND = "Acme turns a backlog into reviews."
FROM_FILE = "Teams pay $20 per seat."
INVENTED = "Acme is the only tool that needs zero configuration."


def url_doc(url: str, title: str = "Product page") -> DocumentRef:
    fetch = FetchInfo(url=url, final_url=url, status=200, sha256="u1", fetched_at="2026-11-25")
    return DocumentRef(
        name=title,
        title=title,
        mime="text/plain",
        origin="url",
        source=url,
        size_bytes=10,
        sha256="u1",
        file_id="file_u1",
        fetch=fetch,
    )


def four():
    ids = ("builder", "skeptic", "founder", "futurist")
    return [
        verdict(pid, s, f"{pid} says: Fine.") for pid, s in zip(ids, (82, 74, 78, 80), strict=True)
    ]


def blockquotes(html: str) -> list[tuple[str | None, str]]:
    """(cite attribute, text) of each blockquote, in page order."""
    found = re.findall(r'<blockquote(?: cite="([^"]*)")?>(.*?)</blockquote>', html, re.S)
    return [(cite or None, text) for cite, text in found]


def cites(html: str) -> list[str]:
    return re.findall(r"<cite>(.*?)</cite>", html)


def quoted(*items: tuple[str, str, int | None]) -> list[Evidence]:
    return [Evidence(quote=q, document="x", status=s, document_index=i) for q, s, i in items]  # type: ignore[arg-type]


@pytest.fixture
def evidenced() -> Run:
    """Acme with quotes: the Builder's two found, the Skeptic's one of three found."""
    verdicts = four()
    verdicts[0] = verdicts[0].model_copy(
        update={"evidence": quoted((FOUND, "verified", 0), (FROM_FILE, "verified", 1))}
    )
    verdicts[1] = verdicts[1].model_copy(
        update={
            "evidence": quoted(
                (FOUND, "verified", 0), (INVENTED, "not found", None), ("Made up.", "not found", 1)
            )
        }
    )
    docs = [url_doc(URL), doc("pricing.txt", "p1")]
    return make_run("r-ev-1", verdicts, docs)


@pytest.fixture
def html(evidenced, personas):
    return review_html(evidenced, [evidenced], personas, Votes())


@pytest.fixture
def page(html, parse):
    return parse(html)


def persona_block(page, name: str) -> str:
    """The visible text of one persona's block on the review page."""
    text = page.text
    start = text.index(f" {name} ")
    ends = [text.find(f" {n} ", start + 1) for n in ("Skeptic", "Founder", "Score history")]
    return text[start : min(e for e in ends if e > start)]


def test_each_quote_is_shown_beside_its_verdict(html, page):
    """Every quote appears on the page in a blockquote, under its persona."""
    assert [text for _, text in blockquotes(html)] == [
        FOUND,
        FROM_FILE,
        FOUND,
        INVENTED,
        "Made up.",
    ]
    assert FROM_FILE in persona_block(page, "Builder")
    assert INVENTED in persona_block(page, "Skeptic")


def test_quote_from_a_fetched_page_links_to_its_url(html, page):
    """A quote from a fetched page links to that page's URL; a file's quote names the file."""
    assert [cite for cite, _ in blockquotes(html)] == [URL, None, URL, None, None]
    hrefs = [a.attrs["href"] for a in page.tags("a")]
    assert hrefs.count(URL) == 3  # the Builder's and the Skeptic's quote, and the Sources list
    # A file's quote names the file; a quote the check placed nowhere keeps the model's words.
    assert cites(html) == ["pricing.txt", "x", "pricing.txt"]


def test_paragraph_with_missing_quotes_is_flagged(page):
    """A verdict whose quotes were not all found says so: "1 of 3 quotes found", never hidden."""
    assert "2 of 2 quotes found in the sources" in persona_block(page, "Builder")
    skeptic = persona_block(page, "Skeptic")
    assert "1 of 3 quotes found in the sources" in skeptic
    assert "Not found in the sources" in skeptic and "skeptic says: Fine." in skeptic
    flagged = [e for e in page.elements if "evidence-flagged" in e.attrs.get("class", "")]
    assert len(flagged) == 1


def test_record_without_evidence_shows_no_quote_section(acme, personas, parse):
    """A run from before verdicts carried quotes renders as it did: no evidence block."""
    page = parse(review_html(acme, [acme], personas, Votes()))
    assert not [e for e in page.elements if e.attrs.get("class", "").startswith("evidence")]


def test_quote_source_with_a_javascript_url_is_not_a_link(personas, parse):
    """A fetched source whose URL is not http(s) is shown as text, never as a link."""
    verdicts = four()
    verdicts[0] = verdicts[0].model_copy(
        update={"evidence": quoted((HOSTILE_SCRIPT, "verified", 0))}
    )
    run = make_run("r-js", verdicts, [url_doc("javascript:alert(1)", title="Evil page")])
    html = review_html(run, [run], personas, Votes())
    page = parse(html)
    assert not [a for a in page.tags("a") if "javascript" in a.attrs.get("href", "").lower()]
    assert not [b for b in page.tags("blockquote") if b.attrs.get("cite")]
    assert "<script>alert(1)</script>" not in html and HOSTILE_SCRIPT in page.text


def test_compare_page_shows_quotes(evidenced, beta, personas, parse):
    """The comparison's verdict blocks carry the same quotes."""
    page = parse(compare_html(evidenced, beta, personas, Votes(), Votes()))
    assert INVENTED in page.text and "1 of 3 quotes found in the sources" in page.text


def md_links(text: str) -> list[tuple[str, str]]:
    """(link text, href) of every link in a Markdown page."""
    out = []
    for block in MarkdownIt("commonmark").parse(text):
        children = block.children or []
        for i, t in enumerate(children):
            if t.type == "link_open":
                out.append((children[i + 1].content, str(t.attrs["href"])))
    return out


def test_markdown_shows_each_quote_and_its_source(evidenced, personas):
    """The Markdown review lists each quote with its status and its source, linked if http(s)."""
    text = review_markdown(evidenced, [evidenced], personas, Votes())
    for quote in (FOUND, FROM_FILE, INVENTED):
        assert f"“{quote}”" in text.replace("\\", "")
    assert "**⚠ 1 of 3 quotes found in the sources**" in text
    assert "Found in the source: pricing.txt" in text.replace("\\", "")
    assert md_links(text).count(("Product page", URL)) == 3  # two quotes and the Sources list


def test_feed_entry_counts_found_quotes(evidenced):
    """The feed's entry summary says how many quotes the panel's verdicts had found."""
    root = ET.fromstring(atom_feed([evidenced]))
    summary = root.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}summary")
    assert summary is not None and "3 of 5 quotes found in the sources." in (summary.text or "")
