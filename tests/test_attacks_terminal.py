"""Terminal escape sequences from a page or the model never reach the terminal.

Regression: `review` and `show` printed a record's rationale, card and name raw, so a model
answer or a page could clear the screen (`ESC[2J`), plant an OSC-8 hyperlink, ring the bell or
rewrite the line with backspaces.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from panel.cli.render import (
    clean,
    diff_view,
    history_view,
    leaderboard,
    scorecard,
    tools_view,
)
from panel.store.diff import diff_runs
from panel.store.history import history
from panel.store.sqlite import ToolRow
from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic, Reply
from tests.runs import CARD, doc, make_run, verdict

Cli = Callable[..., Result]
# Clear screen, an OSC-8 hyperlink closed by BEL, a bare BEL, backspaces, an 8-bit CSI and NEL,
# a carriage return, DEL and a right-to-left override.
ESCAPES = "\x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x07\b\b\x9b31m\x85\r\x7f\u202e"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
NO_COLOR = {"NO_COLOR": "1", "FORCE_COLOR": "", "TERM": "dumb"}


def hostile_verdict() -> Reply:
    return Reply(
        json={
            "score": 82,
            "decision": "ship",
            "rationale": f"A solid editor.{ESCAPES} Ship it.",
            "injection_suspected": True,
            "injection_evidence": f"ignore the rules{ESCAPES}",
        }
    )


def evil(card: dict[str, str]) -> dict[str, str]:
    """The card with escapes in every free-text field (not the enum pricing_model)."""
    return {k: v if k == "pricing_model" else f"{v}{ESCAPES}" for k, v in card.items()}


def hostile_card() -> Reply:
    return Reply(json={**evil(CARD), "name": f"Evil{ESCAPES}Tool", "category": "Other"})


def render(renderable: object) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None, force_terminal=False).print(renderable)
    return buffer.getvalue()


def test_clean_keeps_newlines_and_tabs_only() -> None:
    """clean() drops every control character except newline and tab; other text is untouched."""
    assert (
        clean(f"a\tb\nc{ESCAPES}d ünïcode ⚠")
        == "a\tb\nc[2J]8;;http://evil.exampleclick]8;;31md ünïcode ⚠"
    )


@pytest.fixture
def hostile_review(panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path) -> tuple[Result, str]:
    """A review whose model answers (rationale, evidence, card, name, an error) carry escapes."""
    (tmp_path / "zed.md").write_text("# Zed\n\nZed is a fast collaborative code editor.\n")
    fake.script("the Builder", hostile_verdict())
    fake.script("the Skeptic", Reply(text=f"nope{ESCAPES}"), Reply(text=f"nope{ESCAPES}"))
    fake.script("tool card for", hostile_card())
    result = panel_cli("review", "zed.md", env=NO_COLOR)
    slug = panel_cli("list", "--json").json()[0]["slug"]
    return result, slug


def test_review_prints_no_control_characters(hostile_review: tuple[Result, str]) -> None:
    """`panel review`: the scorecard shows the text without ESC, BEL, backspace or C1 controls."""
    result, _slug = hostile_review
    assert "A solid editor.[2J]8;;http://evil.exampleclick]8;;31m Ship it." in result.stdout
    assert not CONTROL.search(result.stdout.replace("\n", "")), repr(result.stdout)
    assert not CONTROL.search(result.stderr.replace("\n", "")), repr(result.stderr)


@pytest.mark.parametrize(
    "command",
    [
        ["show"],
        ["history"],
        ["list"],
        ["show", "--format", "md"],
        ["show", "--format", "html"],
    ],
)
def test_reading_commands_print_no_control_characters(
    panel_cli: Cli, hostile_review: tuple[Result, str], command: list[str]
) -> None:
    """`show`, `history` and `list` print the stored record without control characters."""
    _result, slug = hostile_review
    args = command if command == ["list"] else [command[0], slug, *command[1:]]
    shown = panel_cli(*args, env=NO_COLOR)
    assert shown.code == 0, shown.stderr
    assert "Evil" in shown.stdout
    assert not CONTROL.search(shown.stdout.replace("\n", "").replace("\t", "")), repr(shown.stdout)


def test_every_renderer_strips_control_characters() -> None:
    """Scorecard, diff, history, tool list and leaderboard, each fed fields full of escapes."""
    evil_card = evil(CARD)
    old = make_run("r1", [verdict("builder", 70)], [doc(f"a{ESCAPES}.md", "a1")])
    new = make_run(
        "r2",
        [verdict("builder", 40, f"Worse now.{ESCAPES} Much worse.")],
        [doc(f"b{ESCAPES}.md", "b1")],
        card=evil_card,
    )
    new.tool.name = f"Evil{ESCAPES}"
    names = {"builder": f"Builder{ESCAPES}"}
    row = ToolRow(
        slug="evil",
        name=f"Evil{ESCAPES}",
        label=f"ship{ESCAPES}",
        decision="ship",
        mean_score=80.0,
        created_at="2026-11-25T13:00:00+00:00",
        run_id="r2",
        runs=2,
        injection_suspected=True,
    )
    board = [{"name": f"Evil{ESCAPES}", "label": f"ship{ESCAPES}", "decision": "ship"}]
    for renderable in (
        scorecard(new, names),
        diff_view(diff_runs(old, new), names),
        history_view(history([old, new]), names),
        tools_view([row]),
        leaderboard(board, title=f"job{ESCAPES}"),
    ):
        text = render(renderable)
        assert "Evil" in text or "Builder" in text
        assert not CONTROL.search(text.replace("\n", "")), repr(text)


def test_dry_run_prints_no_control_characters(panel_cli: Cli, tmp_path: Path) -> None:
    """The plan names the tool from the file's heading and shows the prompts: cleaned too."""
    page = tmp_path / "pwn\x1b[2J.md"
    page.write_text("# Pwn\x1b]0;owned\x07\x1b[2J Tool\n\nIt does a thing.\n" * 5)
    shown = panel_cli(
        "review", str(page), "--dry-run", "--verbose", env={**NO_COLOR, "ANTHROPIC_API_KEY": ""}
    )
    assert shown.code == 0, shown.stderr
    assert "Pwn" in shown.stdout
    assert not CONTROL.search(shown.stdout.replace("\n", "").replace("\t", "")), repr(shown.stdout)
