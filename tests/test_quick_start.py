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


INSTALL = "python3 -m venv .venv && . .venv/bin/activate && pip install -q . && "


def test_the_quick_start_has_a_keyed_review_and_a_keyless_demo() -> None:
    """Two one-line commands from a clone: make and activate a venv, install, then review (with a
    key) or demo; activated, so the `panel ...` commands the demo prints next run as printed."""
    keyed, keyless = quick_start_lines()[:2]
    for line in (keyed, keyless):
        assert line.startswith(INSTALL)
    assert "ANTHROPIC_API_KEY=" in keyed and " panel review " in keyed
    assert keyless.endswith("&& panel demo")


@pytest.mark.e2e
def test_panel_demo_reviews_compares_and_writes_a_site(tmp_path: Path) -> None:
    """The README's keyless line, after the install: two runs, a site, and where they are."""
    keyless = quick_start_lines()[1]
    command = keyless.rsplit("&& ", 1)[1].split()  # `panel demo`
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


def readme_scorecard() -> list[str]:
    """The scorecard lines the quick start shows for `panel demo`, up to its `│ ...` cut."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    block = section.split("╭─ panel review", 1)[1].split("│ ...", 1)[0]
    return ("╭─ panel review" + block).splitlines()[:-1]


@pytest.mark.e2e
def test_the_readme_shows_the_scorecard_the_demo_prints(tmp_path: Path) -> None:
    """The quick start's sample is the demo's first scorecard, line for line at 100 columns
    (regression: the README showed `Skip · 1 ship / 3 skip · mean 56.2` after the prompts had
    changed and the demo printed `Ship · 3 ship / 1 skip · mean 68`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["COLUMNS"] = "100"
    out = subprocess.run(
        [PANEL, "demo", "--home", str(tmp_path / "demo"), "--latency", "0.01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    shown = readme_scorecard()
    assert len(shown) > 20
    assert out.stdout.splitlines()[: len(shown)] == shown


def next_commands(stderr: str) -> list[str]:
    """The shell commands the demo prints after `next:` (the key example left out)."""
    lines = stderr.split("next:", 1)[1].splitlines()
    return [line.strip() for line in lines if line.strip() and "a real review" not in line]


@pytest.mark.e2e
@pytest.mark.parametrize("activated", [True, False])
def test_the_demos_next_commands_run_as_printed(tmp_path: Path, activated: bool) -> None:
    """After the quick start (venv activated) the printed `panel ...` lines run; without an
    activated venv the demo prints the script's full path instead, which runs too (regression:
    `panel: command not found`)."""
    bin_dir = Path(PANEL).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if Path(p).resolve() != bin_dir.resolve()
    )
    activate = f". {bin_dir / 'activate'} && " if activated else ""
    home = tmp_path / "demo"
    demo = subprocess.run(
        [
            "bash",
            "-c",
            f"{activate}{PANEL if not activated else 'panel'} demo --home {home} --latency 0.01",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert demo.returncode == 0, demo.stderr
    commands = next_commands(demo.stderr)
    assert len(commands) == 2
    assert all(c.startswith("panel ") == activated for c in commands)
    for command in commands:
        ran = subprocess.run(
            ["bash", "-c", activate + command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert ran.returncode == 0, (command, ran.stderr)
    assert (tmp_path / "review.html").is_file()
