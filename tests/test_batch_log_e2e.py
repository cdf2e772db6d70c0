"""Issue 20: `panel batch` off a terminal (a log, CI) names each finished tool on its own line, so
a log says which tool failed and why."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]
FAST = ["--rpm", "100000", "--itpm", "0", "--otpm", "0"]
DONE = re.compile(r"done  Tern  (Ship|Skip) · \d ship / \d skip  \$\d+\.\d{4}")


@pytest.fixture
def backlog(tmp_path: Path) -> Path:
    """Tern reviews; Acme's page is on a private address, refused without --allow-private."""
    path = tmp_path / "tools.csv"
    path.write_text(
        "name,url,description\n"
        "Tern,,Tern is a terminal for widgets.\n"
        "Acme,http://127.0.0.1:9/acme,\n"
    )
    return path


def tool_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(("done", "failed"))]


@pytest.mark.parametrize("via", ["live", "batches"])
def test_each_finished_tool_has_its_own_line(
    panel_cli: Cli, fake: FakeAnthropic, backlog: Path, via: str
) -> None:
    """One `done` line with the label and cost, one `failed` line with the reason."""
    fake.batch_delay = 0.05
    result = panel_cli("batch", str(backlog), "--via", via, "--poll", "0.05", *FAST)
    assert result.code == 1, result.stderr
    lines = sorted(tool_lines(result))
    assert len(lines) == 2, result.stderr
    assert DONE.fullmatch(lines[0]), lines[0]
    assert lines[1].startswith("failed  Acme  ") and "127.0.0.1" in lines[1], lines[1]


def test_a_resumed_job_names_only_the_tools_it_finished(
    panel_cli: Cli, fake: FakeAnthropic, backlog: Path
) -> None:
    """Run again with --retry-failed: Tern, done before, is not named again."""
    assert panel_cli("batch", str(backlog), *FAST).code == 1
    again = panel_cli("batch", str(backlog), "--retry-failed", *FAST)
    lines = tool_lines(again)
    assert len(lines) == 1 and lines[0].startswith("failed  Acme  "), again.stderr
