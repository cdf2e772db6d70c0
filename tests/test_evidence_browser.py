"""Each verdict's quotes on the published review page in a real browser (Debian chromium via
Playwright, pages from file://), at phone and desktop widths; screenshots in artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic
from tests.pages import PageServer
from tests.test_site_browser import WIDTHS, artifacts, open_page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def review_page(
    panel_cli: Callable[..., Result], fake: FakeAnthropic, site: PageServer, tmp_path: Path
) -> tuple[Path, dict[str, object]]:
    """Widgetly reviewed from its web page and a local file, the Skeptic inventing one quote."""
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nWidgetly keeps every widget definition in one YAML file.\n")
    fake.invent_quote("as the Skeptic")
    url = f"{site.url}/product"
    result = panel_cli("review", url, str(notes), "--name", "Widgetly", "--allow-private", "--json")
    assert result.code == 0, result.stderr
    out = tmp_path / "site"
    assert panel_cli("site", str(out)).code == 0
    return out / "tools" / "widgetly.html", result.json()


@pytest.mark.parametrize("width", WIDTHS)
def test_each_quote_and_its_source_link_are_visible(
    browser: object, review_page: tuple[Path, dict[str, object]], width: int
) -> None:
    """Every recorded quote is visible beside its verdict with its source; the invented one is
    flagged; nothing overflows the viewport."""
    path, run = review_page
    page, problems = open_page(browser, width, path.as_uri())
    documents = run["documents"]  # type: ignore[index]
    quotes = [e for v in run["verdicts"] for e in v["evidence"]]  # type: ignore[index]
    assert len(quotes) >= 5
    shown = page.locator(".quote")  # type: ignore[attr-defined]
    assert shown.count() == len(quotes)
    for i, e in enumerate(quotes):
        item = shown.nth(i)
        assert item.locator("blockquote").inner_text().strip() == e["quote"]
        assert item.locator("blockquote").is_visible()
        doc = documents[e["document_index"]] if e["document_index"] is not None else None
        if doc is not None and doc["origin"] == "url":
            link = item.get_by_role("link")
            assert link.is_visible() and link.get_attribute("href") == doc["fetch"]["final_url"]
        elif doc is not None:
            assert item.locator("cite").inner_text() == doc["name"]
    flagged = page.locator(".evidence-flagged .evidence-summary")  # type: ignore[attr-defined]
    assert flagged.count() == 1 and flagged.is_visible()
    assert " quotes found in the sources" in flagged.inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")  # type: ignore[attr-defined]
    assert overflow <= 0, f"{overflow}px wider than {width}px"
    page.screenshot(path=str(artifacts() / f"evidence-{width}.png"), full_page=True)  # type: ignore[attr-defined]
    skeptic = page.locator(".persona").nth(1)  # type: ignore[attr-defined]
    skeptic.screenshot(path=str(artifacts() / f"evidence-skeptic-{width}.png"))
    assert problems == []
