"""`panel --help` lists each command on one line of its own, as a help index should."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import PANEL


def command_rows(text: str) -> list[str]:
    """The rows of the help's Commands panel, without its frame."""
    panel = text.split("─ Commands ─", 1)[1].split("╰", 1)[0]
    return [line.strip("│ ") for line in panel.splitlines()[1:] if line.strip("│ ")]


@pytest.mark.parametrize("group", [[], ["keys"], ["db"]])
def test_each_command_is_one_line_of_the_listing(group: list[str]) -> None:
    """A docstring's first paragraph spans several source lines; the listing joins them instead
    of breaking the description where the source did (regression: `cost`, `demo`, `compare`,
    `eval`, `serve`, `home` and `sync` each took two to four ragged lines at any width)."""
    env = {**os.environ, "COLUMNS": "300"}
    result = subprocess.run(
        [PANEL, *group, "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    rows = command_rows(result.stdout)
    names = [row.split()[0] for row in rows]
    assert len(rows) >= 2 and len(names) == len(set(names))
    assert all(row.split(None, 1)[1][0].isupper() for row in rows), rows
