"""Honest pages in a real browser (Debian chromium through Playwright, pages from file://): the
verdict is the headline at 375 and 1280 px, nothing is wider than a 375 px phone, the chart's texts
never overlap, and a tool from the model's own vendor carries its note. Screenshots go to
artifacts/screenshots/ (or $PANEL_ARTIFACTS) for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.judge.personas import load_personas
from panel.model import DocumentRef, FetchInfo, Run, Votes
from panel.pages import compare_html, index_html, methodology_html, review_html
from tests.runs import CARD, make_run, verdict
from tests.test_site_browser import WIDTHS, artifacts

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
IDS = ("builder", "skeptic", "founder", "futurist")
CLAUDE_CARD = {
    **CARD,
    "name": "Claude Files API",
    "tagline": "Upload a document once and reference it in every call",
    "description": "Anthropic's Files API stores documents for reuse across Claude API calls.",
    "pricing_summary": "Usage-based: standard API token prices; storage included.",
    "pricing_model": "usage-based",
    "best_for": "Teams that query the same documents many times.",
}


def run_of(i: int, scores: tuple[int, ...], when: str, card: dict, slug: str, url: str) -> Run:
    fetch = FetchInfo(
        url=url,
        final_url=url,
        status=200,
        sha256="s",
        fetched_at=when,
    )
    page = DocumentRef(
        name="Files API",
        title="Files API",
        mime="text/html",
        origin="url",
        source=fetch.url,
        size_bytes=10,
        sha256="s",
        file_id="file_s",
        fetch=fetch,
    )
    verdicts = [verdict(p, s, f"{p} weighs it. " * 12) for p, s in zip(IDS, scores, strict=True)]
    return make_run(f"r-{slug}-{i}", verdicts, [page], slug=slug, card=card, created_at=when)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Anthropic tool with six runs, four of them on one day with close scores, and a rival."""
    out = tmp_path_factory.mktemp("site")
    personas = load_personas()
    stamps = [
        "2026-11-20T09:00:00+00:00",
        "2026-11-25T09:00:00+00:00",
        "2026-11-25T11:30:00+00:00",
        "2026-11-25T11:30:40+00:00",
        "2026-11-25T16:05:00+00:00",
        "2026-12-03T10:00:00+00:00",
    ]
    scores = [
        (57, 58, 51, 81),
        (60, 61, 59, 62),
        (62, 62, 62, 62),
        (55, 70, 68, 90),
        (70, 71, 40, 95),
        (82, 74, 78, 80),
    ]
    runs = [
        run_of(i, s, t, CLAUDE_CARD, "claude-files-api", "https://docs.anthropic.com/files")
        for i, (s, t) in enumerate(zip(scores, stamps, strict=True))
    ]
    rival_card = {
        **CARD,
        "name": "SmolVLM2-2B",
        "tagline": "Open vision model for phones",
        "pricing_model": "open source",
    }
    rival = run_of(
        0,
        (85, 40, 72, 82),
        "2026-12-02T08:00:00+00:00",
        rival_card,
        "smolvlm2-2b",
        "https://huggingface.co/HuggingFaceTB/SmolVLM2-2.2B-Instruct",
    )
    pages = {
        "index.html": index_html([runs[-1], rival], [(runs[-1], rival)]),
        "methodology.html": methodology_html(personas, {"system": 1}),
        "tools/claude-files-api.html": review_html(runs[-1], runs, personas, Votes(ship=3, skip=1)),
        "tools/smolvlm2-2b.html": review_html(rival, [rival], personas, Votes()),
        "compare/claude-files-api-vs-smolvlm2-2b.html": compare_html(
            runs[-1], rival, personas, Votes(), Votes()
        ),
    }
    for rel, html in pages.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(html, encoding="utf-8")
    return out


def open_page(browser: object, width: int, url: str) -> object:
    page = browser.new_page(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    page.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort()
    )
    page.goto(url)
    return page


REVIEW = "tools/claude-files-api.html"
COMPARE = "compare/claude-files-api-vs-smolvlm2-2b.html"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("rel", [REVIEW, "tools/smolvlm2-2b.html", COMPARE])
def test_verdict_is_the_headline(browser, site, width, rel):
    """The h1 is in the first screen, and the verdict word in it is large (at least 32 px)."""
    page = open_page(browser, width, (site / rel).as_uri())
    h1 = page.locator("h1")
    assert h1.count() == 1 and h1.is_visible()
    box = h1.bounding_box()
    assert box["y"] + box["height"] <= 800 * 0.6, "the headline sits at the top"
    size = h1.evaluate(
        "h => parseFloat(getComputedStyle(h.querySelector('.verdict-word') || h).fontSize)"
    )
    assert size >= 32
    name = rel.replace("/", "_").removesuffix(".html")
    page.screenshot(path=str(artifacts() / f"honest-{name}-{width}.png"), full_page=True)
    page.close()


@pytest.mark.parametrize(
    "rel", ["index.html", "methodology.html", REVIEW, "tools/smolvlm2-2b.html", COMPARE]
)
def test_no_horizontal_overflow_at_375(browser, site, rel):
    """No page is wider than a 375 px phone: nothing scrolls sideways, charts included."""
    page = open_page(browser, 375, (site / rel).as_uri())
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert wide == []
    page.close()


OVERLAPS = """() => {
  const svg = [...document.querySelectorAll('figure.chart svg')]
    .find(s => s.getBoundingClientRect().width > 0);
  const boxes = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
  const hits = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, p] = boxes[i], [b, q] = boxes[j];
    const meet = p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom;
    if (meet) hits.push(a + ' / ' + b);
  }
  return {hits, count: boxes.length, width: svg.getBoundingClientRect().width};
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_labels_do_not_overlap(browser, site, width):
    """No two texts of the visible chart overlap on screen, and the chart fits the page's width."""
    page = open_page(browser, width, (site / REVIEW).as_uri())
    found = page.evaluate(OVERLAPS)
    assert found["count"] > 10 and found["hits"] == []
    assert found["width"] <= width
    ticks = page.evaluate(
        "[...document.querySelectorAll('figure.chart svg')].find(s => s.getBoundingClientRect()"
        ".width > 0).querySelectorAll('.x-tick').length"
    )
    assert ticks >= 2
    page.locator("figure.chart").screenshot(path=str(artifacts() / f"honest-chart-{width}.png"))
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_conflict_note_is_visible(browser, site, width):
    """The Anthropic tool's page shows the conflict note in the first screen; the rival's does not."""
    page = open_page(browser, width, (site / REVIEW).as_uri())
    note = page.locator(".conflict")
    assert (
        note.is_visible()
        and "Conflict of interest. This tool comes from Anthropic" in note.inner_text()
    )
    assert note.bounding_box()["y"] < 800
    page.close()
    other = open_page(browser, width, (site / "tools/smolvlm2-2b.html").as_uri())
    assert other.locator(".conflict").count() == 0
    other.close()


def test_index_dates_stay_on_one_line_at_375(browser, site):
    """On a phone each tool's review date is one line, not `2026-12-` over `04`."""
    page = open_page(browser, 375, (site / "index.html").as_uri())
    lines = page.evaluate(
        "[...document.querySelectorAll('#tools td time')].map(t => t.getClientRects().length)"
    )
    assert lines and all(n == 1 for n in lines), lines
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.close()
