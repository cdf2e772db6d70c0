"""The README's quick start: its lines are the ones a newcomer pastes, and `panel demo` works."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PANEL, ROOT


def quick_start_lines() -> list[str]:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, re.S)


def test_the_quick_start_has_a_keyed_review_and_a_keyless_demo() -> None:
    """Two one-line commands from a clone: install in a venv, then review (with a key) or demo."""
    keyed, keyless = quick_start_lines()[:2]
    for line in (keyed, keyless):
        assert line.startswith("python3 -m venv .venv && .venv/bin/pip install -q . && ")
    assert "ANTHROPIC_API_KEY=" in keyed and ".venv/bin/panel review " in keyed
    assert keyless.endswith(".venv/bin/panel demo")


@pytest.mark.e2e
def test_panel_demo_reviews_compares_and_writes_a_site(tmp_path: Path) -> None:
    """The README's keyless line, after the install: two runs, a site, and where they are."""
    keyless = quick_start_lines()[1]
    command = keyless.rsplit("&& ", 1)[1].split()  # `.venv/bin/panel demo`
    assert command[-1] == "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    out = subprocess.run(
        [PANEL, "demo", "--home", str(tmp_path / "demo"), "--latency", "0.01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "Builder" in out.stdout and re.search(r"(Ship|Skip) · \d ship / \d skip", out.stdout)
    assert "recorded 2 runs in" in out.stderr and "Traceback" not in out.stderr
    site = tmp_path / "demo" / "site"
    assert (site / "index.html").is_file()
    assert (site / "compare" / "tern-vs-kestrel.html").is_file()
    listed = subprocess.run(
        [PANEL, "list", "--home", str(tmp_path / "demo" / "runs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Tern" in listed.stdout and "Kestrel" in listed.stdout
