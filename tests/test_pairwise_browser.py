"""The comparison page with its pairwise verdict in a real browser (Debian chromium through
Playwright), at a phone's and a laptop's width; `panel site --judge` made the verdict."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic
from tests.test_compare_judge import FILLER, KESTREL, ZED
from tests.test_site_browser import WIDTHS, artifacts, open_page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def judged_site(panel_cli: Callable[..., Result], fake: FakeAnthropic, tmp_path: Path) -> Path:
    """Zed and Kestrel reviewed, then `panel site --pairs --judge` asks and publishes the verdict.
    (The real command throughout: the session's browser holds this thread's event loop.)"""
    for name, text in (("Zed", ZED), ("Kestrel", KESTREL)):
        path = tmp_path / f"{name.lower()}.md"
        path.write_text(text + FILLER * 60, encoding="utf-8")
        reviewed = panel_cli("review", str(path), "--name", name)
        assert reviewed.code == 0, reviewed.stderr
    fake.pairwise_prefer = "Zed"
    (tmp_path / "pairs.txt").write_text("zed vs kestrel\n")
    out = tmp_path / "site"
    result = panel_cli("site", str(out), "--pairs", str(tmp_path / "pairs.txt"), "--judge")
    assert result.code == 0, result.stderr
    assert "cost $" in result.stderr
    return out


def test_compare_page_shows_pairwise_verdict(judged_site: Path, browser: object) -> None:
    """At 375 px and 1280 px: the verdict and each persona's pick visible, no overflow, no
    console errors, no request leaves file://."""
    shots = artifacts()
    url = (judged_site / "compare" / "zed-vs-kestrel.html").as_uri()
    for width in WIDTHS:
        page, problems = open_page(browser, width, url)
        for text in (
            "Which should you ship?",
            "Zed · 4 of 4 reviewers, order-stable",
            "Pick Kestrel if",
        ):
            assert page.get_by_text(text, exact=False).first.is_visible(), (width, text)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than {width}px"
        section = page.locator("section.pairwise")
        section.screenshot(path=str(shots / f"compare_pairwise_section-{width}.png"))
        page.screenshot(path=str(shots / f"compare_pairwise-{width}.png"), full_page=True)
        assert problems == [], problems
        page.close()  # type: ignore[attr-defined]
