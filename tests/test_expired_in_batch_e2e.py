"""Issue 20: files that expire in the middle of a batch are uploaded again once and the calls
redone, in live batches and through the Message Batches API alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]
FAST = ["--rpm", "100000", "--itpm", "0", "--otpm", "0"]
BATCHES = ["--via", "batches", "--poll", "0.05", "--batch-cache", "none", *FAST]


def backlog(folder: Path, name: str, tools: list[str]) -> Path:
    """Tools that each have a page of their own and share one vendor document."""
    (folder / "shared.md").write_text("# Shared\n" + "Common vendor terms.\n" * 120)
    rows = []
    for tool in tools:
        (folder / f"{tool}.md").write_text(
            f"# {tool}\n" + f"{tool} turns inputs into outputs.\n" * 60
        )
        rows.append({"name": tool, "files": f"{tool}.md;shared.md"})
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def shared_upload(fake: FakeAnthropic) -> str:
    [upload] = [u for u in fake.uploads if u["filename"].startswith("shared")]
    return str(upload["file_id"])


def uploads_of_shared(fake: FakeAnthropic) -> int:
    return sum(1 for u in fake.uploads if u["filename"].startswith("shared"))


@pytest.mark.parametrize("via", ["live", "batches"])
def test_a_file_expired_since_the_last_job_is_uploaded_again_once(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, via: str
) -> None:
    """Every persona of every tool that sent the expired file gets its verdict; the shared
    document is uploaded again once, not once per call."""
    fake.batch_delay = 0.05
    options = BATCHES if via == "batches" else FAST
    first = panel_cli("batch", str(backlog(tmp_path, "one", ["Alpha"])), "--json", *options)
    assert first.code == 0, first.stderr
    fake.expire_file(shared_upload(fake))
    second = panel_cli(
        "batch", str(backlog(tmp_path, "two", ["Beta", "Gamma", "Delta"])), "--json", *options
    )
    assert second.code == 0, second.stderr
    assert second.json()["counts"] == {"done": 3, "failed": 0, "pending": 0}
    assert uploads_of_shared(fake) == 2
    if via == "batches":  # uploaded again before the redo: no call is told by a 404 again
        assert [m for m in fake.message_requests if m["_status"] == 404] == []
    home = tmp_path / "home"
    for record in home.glob("*/*.json"):
        run = json.loads(record.read_text())
        assert all(v["status"] == "ok" for v in run["verdicts"]), (
            record,
            [v["error"] for v in run["verdicts"]],
        )
