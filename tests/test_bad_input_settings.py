"""Settings and options that cannot work, and errors nobody anticipated: one line, never a trace."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import panel.cli.review
from panel.cli import main
from panel.config import DEFAULT_SHIP_THRESHOLD, SettingError, resolve
from tests.fake_anthropic import FakeAnthropic

Cli = Callable[..., Any]
DRY_RUN = ("review", "--dry-run", "--description", "Acme is a tool that reviews tools.")


@pytest.mark.parametrize("value", ["abc", "-1", "100.5", "nan", "inf", "1e9"])
def test_ship_threshold_that_is_not_a_score_is_refused(value: str) -> None:
    """Scenario: PANEL_SHIP_THRESHOLD=abc (or outside 0..100) is an error naming the variable."""
    with pytest.raises(SettingError, match=rf"^PANEL_SHIP_THRESHOLD={value!r}: "):
        resolve(env={"PANEL_SHIP_THRESHOLD": value})


@pytest.mark.parametrize(("value", "expected"), [("0", 0.0), (" 55 ", 55.0), ("", 70.0)])
def test_ship_threshold_in_range_or_empty_is_used(value: str, expected: float) -> None:
    """Scenario: 0..100 (spaces allowed) is the threshold; an empty variable is the default."""
    assert resolve(env={"PANEL_SHIP_THRESHOLD": value}).ship_threshold == expected
    assert DEFAULT_SHIP_THRESHOLD == 70.0


def test_ship_threshold_abc_is_one_cli_line(panel_cli: Cli) -> None:
    """Scenario: `PANEL_SHIP_THRESHOLD=abc panel review` prints one line and exits 2."""
    result = panel_cli(*DRY_RUN, env={"PANEL_SHIP_THRESHOLD": "abc"})
    assert (result.code, result.stderr) == (
        2,
        "panel: error: PANEL_SHIP_THRESHOLD='abc': not a number (a mean score from 0 to 100)\n",
    )


@pytest.mark.parametrize("under", [False, True])
def test_home_that_is_a_file_is_one_cli_line(panel_cli: Cli, tmp_path: Path, under: bool) -> None:
    """Scenario: `--home` pointing at a file (or inside one) is one line, exit 2."""
    file = tmp_path / "notes.txt"
    file.write_text("not a data home\n")
    home = file / "runs" if under else file
    result = panel_cli("list", "--home", str(home))
    where = f" ({file} is a file)" if under else ""
    assert (result.code, result.stderr) == (
        2,
        f"panel: error: --home {home}: not a directory{where}\n",
    )


def test_panel_home_that_is_a_file_names_the_variable(tmp_path: Path) -> None:
    """Scenario: PANEL_HOME pointing at a file is reported as PANEL_HOME, not --home."""
    file = tmp_path / "notes.txt"
    file.write_text("x")
    with pytest.raises(SettingError, match=f"^PANEL_HOME={file}: not a directory$"):
        resolve(env={"PANEL_HOME": str(file)})


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--rpm", "0"], {}, "--rpm 0: must be more than 0 (from --rpm or PANEL_RPM)"),
        (["--concurrency", "-2"], {}, "--concurrency -2: must be more than 0"),
        ([], {"PANEL_CONCURRENCY": "0"}, "--concurrency 0: must be more than 0"),
        (["--itpm", "-1"], {}, "--itpm -1: must be 0 or more (from --itpm or PANEL_ITPM)"),
        (["--poll", "0"], {}, "--poll 0: must be more than 0"),
        (["--max-cost", "-0.5"], {}, "--max-cost -0.5: must be 0 or more"),
        (["--rpm", "nan"], {}, "--rpm nan: must be more than 0"),
    ],
)
def test_batch_limits_that_cannot_work_are_one_line(
    panel_cli: Cli, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    """Scenario: `panel batch --rpm 0` / a negative --concurrency: one line, exit 2, no call."""
    backlog = tmp_path / "tools.jsonl"
    backlog.write_text('{"name": "Acme", "description": "A tool."}\n')
    result = panel_cli("batch", str(backlog), *args, env=env)
    assert result.code == 2
    assert result.stderr.startswith(f"panel: error: {message}")
    assert result.stderr.count("\n") == 1


# main: the last line of defence ----------------------------------------------------------------


@pytest.fixture
def broken_personas(monkeypatch: pytest.MonkeyPatch) -> None:
    """`panel personas` hits an exception nobody anticipated."""

    def boom(directory: Path | None = None) -> list[Any]:
        raise RuntimeError("the persona loader fell over\nwith a second line")

    monkeypatch.setattr(panel.cli.review, "load_personas", boom)
    monkeypatch.setattr(sys, "argv", ["panel", "personas", "--json"])


@pytest.mark.usefixtures("broken_personas")
def test_unexpected_exception_is_one_line_naming_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Scenario: an unexpected exception is one line naming the command and PANEL_DEBUG, exit 1."""
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == (
        "panel: error: `panel personas` failed unexpectedly: RuntimeError: the persona loader "
        "fell over (a bug in panel; run it again with PANEL_DEBUG=1 to see the traceback)\n"
    )


@pytest.mark.usefixtures("broken_personas")
def test_panel_debug_lets_the_unexpected_exception_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scenario: PANEL_DEBUG=1 re-raises, so the traceback is there for a bug report."""
    monkeypatch.setenv("PANEL_DEBUG", "1")
    with pytest.raises(RuntimeError, match="the persona loader fell over"):
        main()


def test_keyboard_interrupt_keeps_its_message_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scenario: Ctrl-C is not reported as a bug: typer turns it into an exit 130, which says so
    in one line."""

    def interrupted(directory: Path | None = None) -> list[Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(panel.cli.review, "load_personas", interrupted)
    monkeypatch.setattr(sys, "argv", ["panel", "personas"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 130
    assert capsys.readouterr().err == "panel: interrupted; runs already recorded are kept\n"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PANEL_TIMEOUT", "nan", "PANEL_TIMEOUT='nan': must be a finite number"),
        ("PANEL_TIMEOUT", "0", "PANEL_TIMEOUT='0': must be more than 0"),
        ("PANEL_CALL_DEADLINE", "inf", "PANEL_CALL_DEADLINE='inf': must be a finite number"),
        ("PANEL_CALL_DEADLINE", "0", "PANEL_CALL_DEADLINE='0': must be more than 0"),
        ("PANEL_MAX_WAIT", "inf", "PANEL_MAX_WAIT='inf': must be a finite number"),
        ("PANEL_BACKOFF", "nan", "PANEL_BACKOFF='nan': must be a finite number"),
        ("PANEL_ATTEMPTS", "0", "PANEL_ATTEMPTS='0': must be at least 1"),
        ("PANEL_LEASE_S", "abc", "PANEL_LEASE_S='abc': not a number"),
        ("PANEL_LEASE_S", "-5", "PANEL_LEASE_S='-5': must be at least 1"),
        ("PANEL_LEASE_S", "nan", "PANEL_LEASE_S='nan': must be a finite number"),
    ],
)
def test_a_number_setting_that_cannot_work_is_one_line(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, name: str, value: str, message: str
) -> None:
    """`nan` and `inf` pass a bare `float()`: they would wait forever (or never); refused, with
    a lease that would be renewed in a busy loop."""
    backlog = tmp_path / "tools.jsonl"
    backlog.write_text('{"name": "Acme", "description": "A tool that does one thing."}\n')
    result = panel_cli("batch", str(backlog), env={name: value})
    assert result.code == 2, result.stderr
    assert result.stderr == f"panel: error: {message}\n"
    assert not [m for m in fake.message_requests if m["_status"] == 200]
