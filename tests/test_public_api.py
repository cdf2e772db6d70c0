"""The library's public face: the README's Python example runs as written, against the fake API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import panel
from tests.conftest import FAKE_KEY, ROOT
from tests.fake_anthropic import FakeAnthropic


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's 'From Python' section has no python block"
    return match.group(1)


def test_public_names_are_exported() -> None:
    """`panel` exposes review, rerun, load_run and the record types, nothing else needed."""
    for name in (
        "review",
        "rerun",
        "load_run",
        "Run",
        "VerdictRecord",
        "PanelDecision",
        "ToolCard",
    ):
        assert name in panel.__all__ and hasattr(panel, name)


def test_import_panel_does_not_import_the_sdk() -> None:
    """`import panel` stays cheap: the SDK is imported only by calls that reach the API."""
    code = "import sys, panel; print('anthropic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_import_panel_loads_the_models_on_first_use() -> None:
    """`import panel` imports no pydantic (the console script runs it before it can catch Ctrl-C);
    every name in `__all__` still resolves, through `from panel import *` too."""
    code = (
        "import sys, panel; print('pydantic' in sys.modules); "
        "from panel import *; print(set(panel.__all__) <= set(globals()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


@pytest.mark.e2e
def test_readme_example_runs(fake: FakeAnthropic, tmp_path: Path, isolated_env: Path) -> None:
    """The README's five-line script reviews a file, prints the label and four verdicts."""
    example = readme_example()
    assert len(example.strip().splitlines()) <= 6
    (tmp_path / "notes.md").write_text("# Notes CLI\n\nNotes CLI keeps notes in git.\n" * 20)
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PANEL_HOME": str(isolated_env),
    }
    out = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert re.match(r"^(Ship|Skip) · \d ship / \d skip \d+(\.\d)?$", lines[0])
    assert [line.split()[0] for line in lines[1:]] == ["builder", "skeptic", "founder", "futurist"]
    run = panel.load_run("notes-cli", home=isolated_env)
    assert run.panel.label in lines[0]


def test_load_run_never_creates_a_home(tmp_path: Path) -> None:
    """Reading with no runs is a one-line InputError, and leaves no data home behind."""
    with pytest.raises(panel.InputError, match="no runs"):
        panel.load_run("anything", home=tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.e2e
def test_the_library_reviews_into_a_shared_store(
    fake: FakeAnthropic,
    tmp_path: Path,
    isolated_env: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`db=` names the team's store, as `--db` does: the run (and a rerun of it) lands there, not
    in the data home, and `load_run(..., db=)` reads it back; no socket is left open."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes CLI\n\nNotes CLI keeps notes in git.\n" * 20)
    run = panel.review(str(notes), name="Notes CLI", db=pg_url)
    assert panel.load_run("notes-cli", db=pg_url).run_id == run.run_id
    again = panel.rerun("notes-cli", db=pg_url)
    assert again.parent_run_id == run.run_id
    assert panel.load_run("notes-cli", db=pg_url).run_id == again.run_id
    assert not (isolated_env / "panel.db").exists()
    with pytest.raises(panel.InputError):
        panel.load_run("notes-cli")  # the data home has no runs
