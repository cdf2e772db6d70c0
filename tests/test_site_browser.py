"""The published site in a real browser: Debian's chromium driven by Playwright, pages from file://.

Reviews are made by the real `panel` command against the fake API, then `panel site` writes the
pages. Screenshots land in `artifacts/screenshots/` (or $PANEL_ARTIFACTS) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, Result
from tests.fake_anthropic import FakeAnthropic, Reply

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (375, 1280)
HOSTILE = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> javascript:alert(1)'
)
CARD = {
    "name": "Sift",
    "category": "AI Models",
    "tagline": "A small model that sorts your inbox.",
    "description": "Sift classifies mail on device.",
    "pricing_summary": "Free; Pro $5 a month.",
    "pricing_model": "freemium",
    "best_for": "People with too much mail.",
}


def artifacts() -> Path:
    path = Path(os.environ.get("PANEL_ARTIFACTS") or ROOT / "artifacts") / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def site_dir(
    module_cli: Callable[..., Result],
    module_fake: FakeAnthropic,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Three tools reviewed (one with hostile model output), two votes, a comparison, the site:
    built once for the module's tests, which only read it."""
    panel_cli, fake, tmp_path = module_cli, module_fake, tmp_path_factory.mktemp("site")
    (tmp_path / "zed.md").write_text(
        "# Zed\n\nZed is a fast collaborative editor written in Rust.\n"
    )
    fake.script("Helix as the Skeptic", Reply.verdict(41, "skip", f"Risky. {HOSTILE}"))
    fake.set_score("Helix", 48, "skip")
    fake.set_score("Zed", 84, "ship")
    steps = [
        ("review", str(tmp_path / "zed.md"), "--name", "Zed"),
        ("review", "--description", f"Helix is a modal editor. {HOSTILE}", "--name", "Helix"),
        ("vote", "zed", "ship", "--voter", "ana"),
        ("vote", "zed", "skip", "--voter", "bo"),
    ]
    for args in steps:
        result = panel_cli(*args)
        assert result.code == 0, result.stderr
    fake.script("tool card", Reply(json=CARD))
    assert panel_cli("review", "--description", "Sift sorts mail with a small model.").code == 0
    (tmp_path / "pairs.txt").write_text("zed vs helix\n")
    out = tmp_path / "site"
    result = panel_cli("site", str(out), "--pairs", str(tmp_path / "pairs.txt"))
    assert result.code == 0, result.stderr
    return out


def open_page(browser: object, width: int, url: str) -> tuple[object, list[str]]:
    """A page at `width` that records console errors and refuses every request but file://."""
    page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: None if r.url.startswith("file://") else problems.append(f"request {r.url}"),
    )
    page.goto(url)
    return page, problems


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_render_offline_with_the_verdict_visible(
    browser: object, site_dir: Path, width: int
) -> None:
    """Index, review and comparison pages: no console errors, no requests, the verdicts visible."""
    shots = artifacts()
    for rel, must_see in [
        ("index.html", ["Zed", "Helix", "Sift"]),
        ("tools/zed.html", ["4 ship / 0 skip", "84/100 · ship", "1 ship / 1 skip"]),
        ("tools/helix.html", ["0 ship / 4 skip", "41/100 · skip", "No community votes yet"]),
        ("compare/zed-vs-helix.html", ["Zed vs Helix", "Decision", "Reviewer scorecard"]),
    ]:
        page, problems = open_page(browser, width, (site_dir / rel).as_uri())
        for text in must_see:
            assert page.get_by_text(text, exact=False).first.is_visible(), (rel, text)
        assert page.evaluate("window.__pwned") is None, rel
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{rel} is {overflow}px wider than {width}px"
        name = rel.replace("/", "_").removesuffix(".html")
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        assert problems == [], (rel, problems)
        page.close()


def test_hostile_model_output_shows_as_text(browser: object, site_dir: Path) -> None:
    """A rationale with <script> and onerror is visible text on the page, and nothing ran."""
    page, problems = open_page(browser, 1280, (site_dir / "tools/helix.html").as_uri())
    assert page.get_by_text("<script>window.__pwned=1</script>", exact=False).first.is_visible()
    assert page.locator("img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert problems == []


@pytest.mark.parametrize("width", WIDTHS)
def test_index_sorts_and_filters(browser: object, site_dir: Path, width: int) -> None:
    """Clicking a heading sorts the table both ways; the category filter hides other rows."""
    page, problems = open_page(browser, width, (site_dir / "index.html").as_uri())

    def names() -> list[str]:
        return page.locator("#tools tbody tr:not([hidden]) td:first-child").all_inner_texts()

    def means() -> list[float]:
        cells = page.locator("#tools tbody tr td:nth-child(3)").all_inner_texts()
        return [float(c) for c in cells]

    page.get_by_role("button", name="Mean score").click()
    first = means()
    assert first in (sorted(first), sorted(first, reverse=True)) and len(set(first)) == 3
    page.get_by_role("button", name="Mean score").click()
    assert means() == list(reversed(first))
    page.get_by_role("button", name="Tool").click()
    assert names() in (["Helix", "Sift", "Zed"], ["Zed", "Sift", "Helix"])
    page.select_option("#category-filter", "AI Models")
    assert names() == ["Sift"]
    page.select_option("#category-filter", "")
    assert sorted(names()) == ["Helix", "Sift", "Zed"]
    page.screenshot(path=str(artifacts() / f"index-sorted-{width}.png"), full_page=True)
    assert problems == []
