"""kill -9 of a real `panel site` mid-build: the published site stays the previous complete one.

Regression (issue 19): pages were written in place, so a kill at page 600 of 2,001 left an index
linking to 1,340 pages that did not exist.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from panel.pages import publish
from panel.store.sqlite import Store
from tests.conftest import PANEL, Result
from tests.runs import make_run, verdict

pytestmark = pytest.mark.e2e
TOOLS = 400
STARTED = 20  # tool pages in the staging folder before the kill: the build is under way
PERSONAS = ("builder", "skeptic", "founder", "futurist")


def seed(home: Path, first: int, count: int) -> None:
    store = Store(home)
    for i in range(first, first + count):
        scores = (80, 40 + i % 50, 70, 65)
        verdicts = [verdict(p, s) for p, s in zip(PERSONAS, scores, strict=True)]
        store.save_run(make_run(f"r-{i:04d}", verdicts, slug=f"tool-{i:04d}"))
    store.close()


def dangling(site: Path) -> list[tuple[str, str]]:
    """Every relative href of the site's pages that points at no file."""
    missing = []
    for page in site.rglob("*.html"):
        for href in re.findall(r'href="([^"#]+)', page.read_text(encoding="utf-8")):
            if not href.startswith(("http://", "https://")) and not (page.parent / href).is_file():
                missing.append((page.relative_to(site).as_posix(), href))
    return missing


def staged_pages(out: Path) -> int:
    """Tool pages written so far by the build under way (0 while it has no staging folder)."""
    staging = [p for p in publish.builds_dir(out).glob(f"{publish.STAGING}*") if p.is_dir()]
    return sum(len(list((p / "tools").glob("*.html"))) for p in staging)


def test_kill_mid_build_keeps_the_previous_site(
    panel_cli: Callable[..., Result], isolated_env: Path, tmp_path: Path
) -> None:
    """Killed while it renders 400 new tools, `panel site` leaves the old 3-tool site published
    with no dangling link; the next build completes and removes the unfinished folder."""
    out = tmp_path / "site"
    seed(isolated_env, 0, 3)
    assert panel_cli("site", str(out)).code == 0
    published, index = os.readlink(out), (out / "index.html").read_bytes()
    seed(isolated_env, 3, TOOLS)

    proc = subprocess.Popen(
        [PANEL, "site", str(out)],
        env={**os.environ, "PANEL_HOME": str(isolated_env)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while staged_pages(out) < STARTED and proc.poll() is None:
            assert time.monotonic() < deadline, "the build never started writing pages"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the build ended before the kill"
    assert STARTED <= staged_pages(out) < TOOLS + 3  # killed mid-work

    assert os.readlink(out) == published and (out / "index.html").read_bytes() == index
    assert len(list((out / "tools").glob("*.html"))) == 3 and dangling(out) == []

    result = panel_cli("site", str(out))
    assert result.code == 0, result.stderr
    assert len(list((out / "tools").glob("*.html"))) == TOOLS + 3 and dangling(out) == []
    assert staged_pages(out) == 0
