"""Issue 10's faults, end to end: the real `panel` command against the fake API's injected faults.

Attempts are counted at the server (the fake's request log), never inside the client.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from panel.api.retry import DEFAULT_ATTEMPTS
from panel.demo.fake_api import _request_text
from tests.conftest import FAKE_KEY, PANEL, Result
from tests.fake_anthropic import FakeAnthropic

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]


@pytest.fixture
def big(tmp_path: Path) -> str:
    """A document past the cache minimum, so the first persona's reply is streamed."""
    path = tmp_path / "acme.md"
    path.write_text("# Acme\n\n" + "Acme turns a backlog into reviewed, tested widgets. " * 600)
    return str(path)


@pytest.fixture
def small(tmp_path: Path) -> str:
    path = tmp_path / "tiny.md"
    path.write_text("# Tiny\n\nTiny is a small tool.\n")
    return str(path)


def messages(fake: FakeAnthropic) -> list[tuple[str, str, int]]:
    return [r for r in fake.requests if r[1] == "/v1/messages"]


def uploads(fake: FakeAnthropic) -> list[tuple[str, str, int]]:
    return [r for r in fake.requests if r[:2] == ("POST", "/v1/files")]


def test_a_permanent_529_costs_three_attempts_per_call(
    panel_cli: Cli, fake: FakeAnthropic, small: str
) -> None:
    """Five logical calls (four personas, the card), three HTTP attempts each, then recorded."""
    fake.fail_next(529, count=1000)
    result = panel_cli("review", small, "--json")
    assert result.code == 1, result.stderr  # incomplete, and the run is recorded
    assert len(messages(fake)) == 5 * 3
    out = result.json()
    assert all(v["status"] == "failed" and "529" in v["error"] for v in out["verdicts"])
    assert "Traceback" not in result.stderr


def test_a_permanent_529_on_upload_costs_three_attempts(
    panel_cli: Cli, fake: FakeAnthropic, small: str
) -> None:
    fake.fail_next(529, count=1000, path="/v1/files")
    result = panel_cli("review", small)
    assert result.code == 2 and "529" in result.stderr and "Traceback" not in result.stderr
    assert len(uploads(fake)) == 3


def test_retry_after_an_hour_fails_the_call_at_once(
    panel_cli: Cli, fake: FakeAnthropic, small: str
) -> None:
    """A 429 asking for 3600 s fails that persona within seconds, with the cap in the message."""
    fake.fail_next(429, count=1, retry_after=3600)
    result = panel_cli("review", small, "--json")
    assert fake.count_429 == 1  # failed on that answer: no wait, no second attempt
    out = result.json()
    failed = [v for v in out["verdicts"] if v["status"] == "failed"] + (
        [{"error": out["tool"]["card_error"]}] if out["tool"]["card_error"] else []
    )
    assert len(failed) == 1 and "over the 60 s cap" in failed[0]["error"]
    assert result.code == 0  # three of four personas still decide


def test_an_overloaded_error_inside_a_stream_is_retried(
    panel_cli: Cli, fake: FakeAnthropic, big: str
) -> None:
    """An `error` event after HTTP 200 is transient: that persona is asked again and answers."""
    fake.fail_stream("overloaded")
    result = panel_cli("review", big, "--json")
    assert result.code == 0, result.stderr
    assert all(v["status"] == "ok" for v in result.json()["verdicts"])
    assert len(messages(fake)) == 6  # five calls and one retry


def test_a_connection_cut_mid_stream_is_retried_then_recorded(
    panel_cli: Cli, fake: FakeAnthropic, big: str
) -> None:
    """A reset while streaming: retried; cut on every attempt, that persona fails, the run is kept."""
    fake.fail_stream("cut", count=3)
    result = panel_cli("review", big, "--json")
    assert "Traceback" not in result.stderr
    out = result.json()
    statuses = [v["status"] for v in out["verdicts"]]
    assert statuses.count("failed") == 1 and statuses.count("ok") == 3
    assert result.code == 0
    shown = panel_cli("show", out["run_id"], "--json").json()
    assert shown["run_id"] == out["run_id"]


def test_an_expired_file_is_uploaded_again_and_later_runs_work(
    panel_cli: Cli, fake: FakeAnthropic, small: str
) -> None:
    """Issue 10: metadata still readable, Messages 404: the 404 is the truth, so re-upload."""
    first = panel_cli("review", small, "--json").json()
    dead = first["documents"][0]["file_id"]
    fake.expire_file(dead)
    second = panel_cli("review", small, "--json")
    assert second.code == 0, second.stderr
    assert all(v["status"] == "ok" for v in second.json()["verdicts"])
    assert second.json()["documents"][0]["file_id"] != dead
    assert len(uploads(fake)) == 2
    third = panel_cli("review", small, "--json")
    assert third.code == 0 and len(uploads(fake)) == 2


def test_an_upload_stored_before_its_answer_was_lost_is_not_repeated(
    panel_cli: Cli, fake: FakeAnthropic, small: str
) -> None:
    fake.drop_next_upload()
    result = panel_cli("review", small, "--json")
    assert result.code == 0, result.stderr
    assert len(fake.files) == 1
    assert result.json()["documents"][0]["file_id"] in fake.files


def test_concurrent_reviews_on_one_home_upload_each_document_once(
    fake: FakeAnthropic, isolated_env: Path, tmp_path: Path, small: str
) -> None:
    """Six processes reviewing the same document at once: one upload (claimed in SQLite).

    The race is held open, not hoped for: the fake keeps the one upload waiting until the five
    other processes have each said they found it claimed and are waiting for its file id."""
    fake.hold_uploads()
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PANEL_HOME": str(isolated_env),
    }
    procs = [
        subprocess.Popen(
            [PANEL, "review", small, "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    waiting = threading.Semaphore(0)
    stderrs: list[list[str]] = [[] for _ in procs]

    def read(proc: subprocess.Popen[str], lines: list[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "is being uploaded by another panel" in line:
                waiting.release()

    readers = [
        threading.Thread(target=read, args=(p, lines), daemon=True)
        for p, lines in zip(procs, stderrs, strict=True)
    ]
    for reader in readers:
        reader.start()
    try:
        seen = [waiting.acquire(timeout=60) for _ in range(5)]
        assert all(seen), [("".join(lines)) for lines in stderrs]
        deadline = time.monotonic() + 30  # the claimer's request may still be on its way
        while not fake.uploads_started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake.uploads_started == 1 and not fake.uploads  # all six inside, one uploading
    finally:
        fake.release_uploads()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    for reader in readers:
        reader.join(timeout=10)
    assert all(p.returncode == 0 for p in procs), ["".join(lines) for lines in stderrs]
    assert len(uploads(fake)) == 1 and fake.uploads_started == 1
    waited = [any("another panel" in line for line in lines) for lines in stderrs]
    assert sorted(waited) == [False] + [True] * 5  # the uploader never waited on itself
    ids = {json.loads(out)["documents"][0]["file_id"] for out in outs}
    assert len(ids) == 1


def test_a_call_that_hangs_is_abandoned_at_the_read_timeout(
    panel_cli: Cli, fake: FakeAnthropic, small: str
) -> None:
    """PANEL_TIMEOUT bounds each attempt: a hanging API costs attempts × timeout, not 600 s × 5."""
    fake.latency = (30, 30)
    result = panel_cli("review", small, "--json", env={"PANEL_TIMEOUT": "0.5"}, timeout=60)
    attempts = Counter(_request_text(body) for body in fake.message_requests)
    assert set(attempts.values()) == {DEFAULT_ATTEMPTS}  # each call given up, then tried again
    assert result.code == 1 and "Traceback" not in result.stderr
    out: dict[str, Any] = result.json()
    assert all("timeout" in v["error"] for v in out["verdicts"])


def _limited_file_size(limit: int) -> Callable[[], None]:
    """A child whose files cannot grow past `limit` bytes: writes fail as on a full disk."""

    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("json_out", [True, False])
def test_a_full_disk_prints_the_paid_result_then_one_line(
    fake: FakeAnthropic, isolated_env: Path, tmp_path: Path, json_out: bool
) -> None:
    """Issue 10: the record cannot be written; the result is printed first, then one line naming
    a fallback copy, exit 1; nothing paid for is lost."""
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PANEL_HOME": str(isolated_env),
        "TMPDIR": str(tmp_path),
    }
    warmup = tmp_path / "warm.md"
    warmup.write_text("# Warm\n\nWarm is a tool.\n")
    subprocess.run([PANEL, "review", str(warmup)], env=env, check=True, capture_output=True)
    huge = "Acme is a tool. " * 12_000  # stdin is kept inline in the record: ~200 KB
    args = [PANEL, "review", "-", *(["--json"] if json_out else [])]
    proc = subprocess.run(
        args,
        input=huge,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited_file_size(150_000),
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("panel: error: run ") and "could not be recorded" in line
    # The same limit stops the copy in the temporary directory: the JSON on stdout is the copy.
    assert line.endswith("the JSON on stdout is the only copy")
    printed = proc.stdout[proc.stdout.index("{") :] if not json_out else proc.stdout
    assert json.loads(printed)["panel"]["label"]
    if not json_out:
        assert "Builder" in proc.stdout[: proc.stdout.index("{")]


def test_a_corrupt_record_is_named_and_reading_goes_on(
    panel_cli: Cli, fake: FakeAnthropic, small: str, isolated_env: Path, tmp_path: Path
) -> None:
    """show names the record in one line; history and site leave it out with a warning."""
    first = panel_cli("review", small, "--json").json()
    second = panel_cli("review", small, "--json").json()
    record = next(isolated_env.rglob(f"{first['run_id']}.json"))
    record.write_text("{ not json")
    shown = panel_cli("show", first["run_id"])
    assert shown.code == 2 and "Traceback" not in shown.stderr
    assert shown.stderr.strip() == (
        f"panel: error: run {first['run_id']}: record {record} is not a run record"
    )
    history = panel_cli("history", "tiny", "--json")
    assert history.code == 0, history.stderr
    assert "left out" in history.stderr
    assert [e["run_id"] for e in history.json()["runs"]] == [second["run_id"]]
    site = panel_cli("site", str(tmp_path / "site"))
    assert site.code == 0 and (tmp_path / "site" / "tools" / "tiny.html").exists()
