"""`panel serve` in a real browser: Debian's chromium through Playwright against the live site.

The real command serves a seeded data home on 127.0.0.1 (port 0); a reader votes, changes the vote,
bookmarks a tool and finds it on the bookmarks page. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from panel.store.sqlite import Store
from tests.conftest import PANEL
from tests.serve_helpers import seed
from tests.test_site_browser import WIDTHS, artifacts

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def live(isolated_env: Path, tmp_path: Path) -> Iterator[str]:
    """`panel serve --port 0` over a home with Zed and Helix; its URL, from the line it prints."""
    store = Store(isolated_env)
    seed(store)
    store.close()
    (tmp_path / "pairs.txt").write_text("zed vs helix\n")
    with subprocess.Popen(
        [PANEL, "serve", "--port", "0", "--pairs", str(tmp_path / "pairs.txt")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()  # printed once the socket listens
        try:
            assert line.startswith("serving http://127.0.0.1:"), line + proc.stderr.read()
            yield line.split()[1]
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def open_page(
    browser: object, base: str, width: int, *, js: bool = True
) -> tuple[object, list[str]]:
    """A fresh reader (own cookies and storage) whose page records errors and outside requests."""
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": 900}, java_script_enabled=js
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(base) else problems.append(r.url))
    return page, problems


def no_overflow(page: object) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))  # type: ignore[attr-defined]


def vote_by_click(page: object, label: str) -> None:
    """Click Ship or Skip and wait for the page the vote returns to."""
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.locator("form[data-pow]").get_by_role("button", name=label, exact=True).click()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", WIDTHS)
def test_vote_change_it_and_bookmark(browser: object, live: str, width: int) -> None:
    """Ship, then skip: the tally follows; a bookmark shows on the bookmarks page."""
    shots = artifacts()
    page, problems = open_page(browser, live, width)
    page.goto(live + "tools/zed.html")  # type: ignore[attr-defined]
    assert page.get_by_text("No community votes yet").first.is_visible()  # type: ignore[attr-defined]
    vote_by_click(page, "Ship")
    assert page.url == live + "tools/zed.html", page.content()[-1500:]  # type: ignore[attr-defined]
    assert page.locator(".vote .status").inner_text().startswith("Community: 1 ship / 0 skip")  # type: ignore[attr-defined]
    assert "your vote: ship" in page.locator(".vote .status").inner_text()  # type: ignore[attr-defined]
    vote_by_click(page, "Skip")
    assert page.locator(".vote .status").inner_text().startswith("Community: 0 ship / 1 skip")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Bookmark").click()  # type: ignore[attr-defined]
    assert page.get_by_role("button", name="Bookmarked").is_visible()  # type: ignore[attr-defined]
    assert no_overflow(page) <= 0
    page.screenshot(path=str(shots / f"serve_tool-{width}.png"), full_page=True)  # type: ignore[attr-defined]
    page.get_by_role("link", name="Bookmarks").click()  # type: ignore[attr-defined]
    link = page.locator("#bookmarks a")  # type: ignore[attr-defined]
    assert link.all_inner_texts() == ["Zed"]
    page.screenshot(path=str(shots / f"serve_bookmarks-{width}.png"), full_page=True)  # type: ignore[attr-defined]
    link.click()
    assert page.url == live + "tools/zed.html"  # type: ignore[attr-defined]
    assert problems == []


@pytest.mark.parametrize("width", WIDTHS)
def test_vote_on_a_comparison(browser: object, live: str, width: int) -> None:
    """Each tool of a comparison has its form; a vote returns to the comparison, counted."""
    page, problems = open_page(browser, live, width)
    page.goto(live + "compare/zed-vs-helix.html")  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.locator("section.vote", has_text="Helix").get_by_role("button", name="Skip").click()  # type: ignore[attr-defined]
    assert page.url == live + "compare/zed-vs-helix.html"  # type: ignore[attr-defined]
    helix = page.locator("section.vote", has_text="Helix").inner_text()  # type: ignore[attr-defined]
    assert "0 ship / 1 skip" in helix
    assert no_overflow(page) <= 0
    page.screenshot(path=str(artifacts() / f"serve_compare-{width}.png"), full_page=True)  # type: ignore[attr-defined]
    assert problems == []


def test_voting_works_without_javascript(browser: object, live: str) -> None:
    """The plain form posts without the script (the harder-limited path) and is counted."""
    page, problems = open_page(browser, live, 1280, js=False)
    page.goto(live + "tools/helix.html")  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.get_by_role("button", name="Ship", exact=True).click()  # type: ignore[attr-defined]
    assert "1 ship / 0 skip" in page.locator(".vote .status").inner_text()  # type: ignore[attr-defined]
    assert page.get_by_role("button", name="Bookmark").count() == 0  # type: ignore[attr-defined]
    assert problems == []
