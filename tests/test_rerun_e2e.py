"""`panel rerun`, `show`, `history`, `list` and `diff` end to end against the fake API."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic
from tests.pages import ETAG, PageServer

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]
SCORES = {"the Builder": 80, "the Skeptic": 65, "the Founder": 72, "the Futurist": 55}
NO_API = {"ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}


def persona_requests(fake: FakeAnthropic) -> list[dict[str, Any]]:
    return [r for r in fake.message_requests if "tool card" not in json.dumps(r["messages"])]


@pytest.fixture
def acme(panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path) -> dict[str, Any]:
    """One recorded review of Acme: two files and a description, with known scores."""
    for who, score in SCORES.items():
        fake.set_score(who, score, "ship" if score >= 60 else "skip")
    (tmp_path / "acme.md").write_text("# Acme CLI\n\nAcme turns a backlog into reviews.\n")
    (tmp_path / "pricing.txt").write_text("Free for individuals. Teams pay $20 per seat.\n")
    result = panel_cli("review", "acme.md", "pricing.txt", "--description", "A CLI.", "--json")
    assert result.code == 0, result.stderr
    return result.json()


def statuses(diff: dict[str, Any]) -> dict[str, str]:
    return {
        d["name"] if d["source"].startswith("/") else d["source"]: d["status"]
        for d in diff["documents"]
    }


def test_rerun_after_one_file_changed(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any], tmp_path: Path
) -> None:
    """One upload (the changed file), four persona calls, and a diff with the scores moved."""
    (tmp_path / "pricing.txt").write_text("Free for individuals. Teams now pay $35 per seat.\n")
    fake.set_score("the Builder", 90, "ship")
    fake.set_score("the Skeptic", 45, "skip")
    uploads, calls = len(fake.uploads), len(persona_requests(fake))
    result = panel_cli("rerun", "acme-cli", "--json")
    assert result.code == 0, result.stderr
    assert len(fake.uploads) - uploads == 1
    assert re.fullmatch(r"pricing\.[0-9a-f]{12}\.txt", fake.uploads[-1]["filename"])
    assert len(persona_requests(fake)) - calls == 4
    out = result.json()
    assert out["run"]["parent_run_id"] == acme["run_id"]
    assert out["run"]["tool"]["slug"] == "acme-cli"
    diff = out["diff"]
    assert statuses(diff) == {
        "acme.md": "unchanged",
        "pricing.txt": "changed",
        "--description": "unchanged",
    }
    moves = {p["persona"]: (p["delta"], p["flipped"]) for p in diff["personas"]}
    assert moves == {
        "builder": (10, False),
        "skeptic": (-20, True),
        "founder": (0, False),
        "futurist": (0, False),
    }
    assert (diff["old_label"], diff["new_label"]) == (
        "Ship · 3 ship / 1 skip",
        "Skip · 2 ship / 2 skip",
    )


def test_rerun_with_nothing_changed_uploads_nothing(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any]
) -> None:
    """Same bytes, same file_ids: zero uploads, every document unchanged, description included."""
    uploads = len(fake.uploads)
    out = panel_cli("rerun", "acme-cli", "--json").json()
    assert len(fake.uploads) == uploads
    assert set(statuses(out["diff"]).values()) == {"unchanged"}
    assert [d["file_id"] for d in out["run"]["documents"]] == [
        d["file_id"] for d in acme["documents"]
    ]


def test_rerun_never_edits_the_earlier_record(
    panel_cli: Cli, acme: dict[str, Any], isolated_env: Path, tmp_path: Path
) -> None:
    """The previous record's bytes are the same after a rerun; the new run is a new file."""
    record = isolated_env / "acme-cli" / f"{acme['run_id']}.json"
    before = record.read_bytes()
    (tmp_path / "acme.md").write_text("# Acme CLI\n\nNow with plugins.\n")
    panel_cli("rerun", "acme-cli", "--json")
    assert record.read_bytes() == before
    assert len(list(record.parent.glob("*.json"))) == 2


def test_rerun_adds_and_drops_sources(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any], tmp_path: Path
) -> None:
    """A new source is added, a --drop source removed, a new --description replaces the old."""
    (tmp_path / "changelog.md").write_text("# Changelog\n\n2.0: plugins.\n")
    args = (
        "rerun",
        "Acme CLI",
        "changelog.md",
        "--drop",
        "pricing.txt",
        "--description",
        "A faster CLI.",
    )
    out = panel_cli(*args, "--json").json()
    assert statuses(out["diff"]) == {
        "acme.md": "unchanged",
        "changelog.md": "added",
        "--description": "changed",
        "pricing.txt": "removed",
    }
    assert len(fake.uploads) == 3 + 2


def test_drop_that_matches_nothing_is_refused(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any]
) -> None:
    """--drop of a source the previous run did not have: exit 2, naming the sources it had."""
    requests = len(fake.requests)
    result = panel_cli("rerun", "acme-cli", "--drop", "nope.md")
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "--drop nope.md" in result.stderr and "pricing.txt" in result.stderr
    assert len(fake.requests) == requests


def test_rerun_with_a_file_gone_suggests_drop(
    panel_cli: Cli, acme: dict[str, Any], tmp_path: Path
) -> None:
    """A previous file that no longer exists is one line suggesting --drop."""
    (tmp_path / "pricing.txt").unlink()
    result = panel_cli("rerun", "acme-cli")
    assert result.code == 2 and "pricing.txt: no such file" in result.stderr
    assert f"--drop {tmp_path / 'pricing.txt'}" in result.stderr


def test_rerun_of_a_tool_never_reviewed_suggests_review(
    panel_cli: Cli, fake: FakeAnthropic
) -> None:
    """No runs to rerun: exit 2, one line pointing at `panel review`, nothing sent."""
    result = panel_cli("rerun", "widgetly")
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "'widgetly'" in result.stderr and "panel review" in result.stderr
    assert fake.requests == []


def test_rerun_prints_the_scorecard_then_the_diff(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any], tmp_path: Path
) -> None:
    """Without --json: the new scorecard, then what changed with the score moves."""
    (tmp_path / "pricing.txt").write_text("Now $35 per seat.\n")
    fake.set_score("the Skeptic", 45, "skip")
    result = panel_cli("rerun", "acme-cli")
    assert result.code == 0, result.stderr
    assert result.stdout.index("panel review") < result.stdout.index("what changed")
    assert "changed  pricing.txt" in result.stdout
    assert "65 → 45  (−20)  ship → skip" in result.stdout


def test_history_of_three_runs_in_order(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any], tmp_path: Path
) -> None:
    """Three runs oldest first, each the parent of the next, with each persona's trend."""
    fake.set_score("the Builder", 85, "ship")
    second = panel_cli("rerun", "acme-cli", "--json").json()["run"]
    (tmp_path / "pricing.txt").write_text("Teams now pay $35 per seat.\n")
    fake.set_score("the Builder", 90, "ship")
    third = panel_cli("rerun", "acme-cli", "--json").json()["run"]
    history = panel_cli("history", "acme-cli", "--json", env=NO_API).json()
    assert [r["run_id"] for r in history["runs"]] == [
        acme["run_id"],
        second["run_id"],
        third["run_id"],
    ]
    assert [r["parent_run_id"] for r in history["runs"]] == [None, acme["run_id"], second["run_id"]]
    assert history["trend"]["builder"] == [80, 85, 90]
    assert history["runs"][2]["documents_changed"] == ["pricing.txt"]
    text = panel_cli("history", "acme-cli", env=NO_API)
    assert text.code == 0 and "▇▇█" in text.stdout and "documents: ~pricing.txt" in text.stdout


def test_diff_of_two_tools_is_refused(panel_cli: Cli, acme: dict[str, Any], tmp_path: Path) -> None:
    """Runs of different tools: exit 2 with one line naming both tools."""
    (tmp_path / "other.md").write_text("# Other Tool\n\nSomething else.\n")
    other = panel_cli("review", "other.md", "--json").json()
    result = panel_cli("diff", acme["run_id"], other["run_id"], env=NO_API)
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert (
        "different tools" in result.stderr
        and "'acme-cli'" in result.stderr
        and "'other-tool'" in result.stderr
    )


def test_reading_commands_call_no_api(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any], tmp_path: Path
) -> None:
    """show, history, list and diff work with no key and an unreachable API, sending nothing."""
    (tmp_path / "pricing.txt").write_text("Teams now pay $35 per seat.\n")
    second = panel_cli("rerun", "acme-cli", "--json").json()["run"]
    requests = len(fake.requests)
    shown = panel_cli("show", "acme-cli", "--json", env=NO_API)
    assert shown.code == 0 and shown.json()["run_id"] == second["run_id"]
    assert (
        panel_cli("show", acme["run_id"], "--json", env=NO_API).json()["run_id"] == acme["run_id"]
    )
    assert "Builder" in panel_cli("show", "acme-cli", env=NO_API).stdout
    listed = panel_cli("list", "--json", env=NO_API).json()
    assert [(t["slug"], t["runs"], t["run_id"]) for t in listed] == [
        ("acme-cli", 2, second["run_id"])
    ]
    assert "acme-cli" in panel_cli("list", env=NO_API).stdout
    diff = panel_cli("diff", acme["run_id"], second["run_id"], "--json", env=NO_API).json()
    assert diff["documents"][1]["status"] == "changed"
    assert panel_cli("history", "acme-cli", env=NO_API).code == 0
    assert len(fake.requests) == requests


@pytest.mark.parametrize("command", ["show", "history"])
def test_unknown_tool_suggests_list(panel_cli: Cli, acme: dict[str, Any], command: str) -> None:
    """An unknown TOOL is one line naming it and pointing at `panel list`."""
    result = panel_cli(command, "widgetly", env=NO_API)
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "'widgetly'" in result.stderr and "panel list" in result.stderr


def test_rerun_fetches_urls_conditionally(panel_cli: Cli, fake: FakeAnthropic) -> None:
    """An unchanged page (304) is rebuilt locally: same file_id, no upload, marked not modified."""
    with PageServer() as site:
        url = f"{site.url}/etag"
        first = panel_cli("review", url, "--allow-private", "--json").json()
        uploads = len(fake.uploads)
        result = panel_cli("rerun", first["tool"]["slug"], "--allow-private", "--json")
        assert result.code == 0, result.stderr
        assert site.headers["/etag"].get("if-none-match") == ETAG
    (doc,) = result.json()["run"]["documents"]
    assert doc["fetch"]["not_modified"] is True
    assert doc["file_id"] == first["documents"][0]["file_id"]
    assert len(fake.uploads) == uploads


def test_rerun_from_another_directory_finds_the_files(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any], tmp_path: Path
) -> None:
    """Sources are recorded by absolute path, so a rerun works from anywhere; nothing re-uploaded."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    uploads = len(fake.uploads)
    result = panel_cli("rerun", "acme-cli", "--json", cwd=elsewhere)
    assert result.code == 0, result.stderr
    assert len(fake.uploads) == uploads


def test_rerun_tells_the_personas_the_same_name(
    panel_cli: Cli, fake: FakeAnthropic, acme: dict[str, Any]
) -> None:
    """Regression: a rerun used the card's name in the prompts, so the prompt hashes moved."""
    out = panel_cli("rerun", "acme-cli", "--json").json()
    assert out["run"]["prompt_hashes"] == acme["prompt_hashes"]
    assert out["run"]["tool"]["reviewed_as"] == acme["tool"]["reviewed_as"] == "Acme CLI"


def test_reading_commands_never_create_a_data_home(panel_cli: Cli, tmp_path: Path) -> None:
    """`list`, `show`, `history` on an empty home say so and leave no folder behind."""
    home = tmp_path / "empty-home"
    env = {**NO_API, "PANEL_HOME": str(home)}
    assert panel_cli("list", env=env).code == 0
    for args in (["show", "acme"], ["history", "acme"]):
        result = panel_cli(*args, env=env)
        assert result.code == 2 and "no runs in" in result.stderr
    assert not home.exists()
