"""`panel batch` end to end: the installed command against the fake API, live and via batches."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKE_KEY, PANEL, Result
from tests.fake_anthropic import FakeAnthropic, Reply

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]
FAST = ["--rpm", "100000", "--itpm", "0", "--otpm", "0"]


def make_backlog(
    folder: Path, count: int, *, fmt: str = "jsonl", shared: int = 2
) -> tuple[Path, int]:
    """`count` tools, each with its own page and all sharing `shared` documents.

    Returns the backlog path and the number of unique documents it references.
    """
    for s in range(shared):
        (folder / f"shared{s}.md").write_text(f"# Shared {s}\n" + "Common vendor terms.\n" * 120)
    rows = []
    for i in range(count):
        (folder / f"tool{i}.md").write_text(
            f"# Tool {i}\n" + f"Tool {i} turns inputs into outputs.\n" * 60
        )
        files = [f"tool{i}.md", *(f"shared{s}.md" for s in range(shared))]
        rows.append({"name": f"Tool {i:02d}", "description": None, "files": ";".join(files)})
    path = folder / f"backlog.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif fmt == "csv":
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["name", "url", "description", "files"])
            writer.writeheader()
            for r in rows:
                writer.writerow(
                    {"name": r["name"], "url": "", "description": "", "files": r["files"]}
                )
    else:
        import yaml

        path.write_text(
            yaml.safe_dump([{"name": r["name"], "files": r["files"].split(";")} for r in rows])
        )
    return path, count + shared


def job_runs(home: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(home / "panel.db")
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM runs WHERE job_id IS NOT NULL ORDER BY run_id").fetchall()
    finally:
        db.close()


def runs_so_far(home: Path) -> int:
    """For polling a running job: the database file exists a moment before its tables do."""
    try:
        return len(job_runs(home)) if (home / "panel.db").exists() else 0
    except sqlite3.OperationalError:
        return 0


def run_files(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in home.glob("*/*.json")}


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "yaml"])
def test_thirty_tools_complete_with_one_upload_per_unique_document(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, isolated_env: Path, fmt: str
) -> None:
    """Every tool gets one complete run; shared documents are uploaded once for the backlog."""
    fake.latency = (0.001, 0.01)
    backlog, unique = make_backlog(tmp_path, 30, fmt=fmt)
    result = panel_cli("batch", str(backlog), "--json", *FAST)
    assert result.code == 0, result.stderr
    out = result.json()
    assert out["counts"] == {"done": 30, "failed": 0, "pending": 0}
    assert len(fake.uploads) == unique == out["uploads"]
    assert len({u["sha256"] for u in fake.uploads}) == unique
    runs = job_runs(isolated_env)
    assert len(runs) == 30 and len({r["slug"] for r in runs}) == 30
    assert [b["name"] for b in out["leaderboard"]] == sorted(
        (b["name"] for b in out["leaderboard"]),
        key=lambda n: -next(x["mean_score"] for x in out["leaderboard"] if x["name"] == n),
    )
    assert out["cost_usd"] > 0 and out["tokens"] > 0
    # off a terminal: a plain line per finished tool, then where the runs were recorded
    lines = result.stderr.splitlines()
    assert len(lines) >= 30 and lines[-2].startswith("panel: 30/30 tools finished (30 done")
    assert lines[-1].startswith(f"panel: job {out['job_id']}: 30 tools recorded in ")
    for path in isolated_env.rglob("*"):  # records, the database and its WAL: never the key
        assert not path.is_file() or FAKE_KEY.encode() not in path.read_bytes(), path


def spawn_batch(
    fake: FakeAnthropic, home: Path, cwd: Path, backlog: Path, *args: str
) -> subprocess.Popen[bytes]:
    """`panel batch` as a background process, to be killed mid-job."""
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PANEL_HOME": str(home),
    }
    return subprocess.Popen(
        [PANEL, "batch", str(backlog), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_personas_of_a_tool_share_the_cached_prefix(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, isolated_env: Path
) -> None:
    """The first persona writes the cache; the other three read it."""
    backlog, _ = make_backlog(tmp_path, 3)
    assert panel_cli("batch", str(backlog), *FAST).code == 0
    record = json.loads(next(isolated_env.glob("tool-00/*.json")).read_text())
    usages = [v["usage"] for v in record["verdicts"]]
    assert sum(1 for u in usages if u["cache_creation_input_tokens"] > 0) == 1
    assert sum(1 for u in usages if u["cache_read_input_tokens"] > 0) == 3


def test_rerun_skips_done_tools_and_sends_nothing(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    backlog, _ = make_backlog(tmp_path, 4)
    assert panel_cli("batch", str(backlog), *FAST).code == 0
    before = len(fake.requests)
    again = panel_cli("batch", str(backlog), "--json", *FAST)
    assert again.code == 0
    assert again.json()["skipped_already_done"] == 4
    assert len(fake.requests) == before


def test_invalid_rows_are_listed_and_nothing_is_sent(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    """All invalid rows at once, file:line and reason, exit 2, before any call."""
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"name": "Ok", "description": "fine"}\n{"name": "NoSource"}\n{"description": "no name"}\n'
        '{"name": "ok", "description": "dup"}\n'
    )
    result = panel_cli("batch", str(path))
    assert result.code == 2
    assert f"{path}:2: no source" in result.stderr
    assert f"{path}:3: missing name" in result.stderr
    assert f"{path}:4: duplicate name" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake.requests == []
    skipped = panel_cli("batch", str(path), "--skip-invalid", "--json", *FAST)
    assert skipped.code == 0, skipped.stderr
    assert skipped.json()["counts"]["done"] == 1
    assert skipped.stderr.count("skipping invalid row") == 3


def test_a_429_is_absorbed_by_the_scheduler(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    """A 429 pauses the scheduler, the call is retried, and every tool still completes."""
    backlog, _ = make_backlog(tmp_path, 3)
    fake.fail_next(429, count=2, retry_after=0.05)
    result = panel_cli("batch", str(backlog), "--json", *FAST)
    out = result.json()
    assert out["counts"]["done"] == 3
    assert out["rate_limited"] == 2 and fake.count_429 == 2


def test_kill_9_then_rerun_gives_exactly_one_run_per_tool(
    fake: FakeAnthropic, tmp_path: Path, isolated_env: Path, panel_cli: Cli
) -> None:
    """kill -9 mid-job, then the same command: each tool has one complete run; work done before the
    kill is neither repeated nor touched."""
    fake.latency = (0.05, 0.3)
    backlog, _ = make_backlog(tmp_path, 24)
    proc = spawn_batch(fake, isolated_env, tmp_path, backlog, "--concurrency", "4", *FAST)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and runs_so_far(isolated_env) < 5:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    before = {r["run_id"]: r["slug"] for r in job_runs(isolated_env)}
    files_before = run_files(isolated_env)
    assert 5 <= len(before) < 24, "the kill came too late to test anything"
    calls_before = len(fake.message_requests)

    result = panel_cli("batch", str(backlog), "--json", *FAST)
    assert result.code == 0, result.stderr
    assert result.json()["counts"] == {"done": 24, "failed": 0, "pending": 0}
    runs = job_runs(isolated_env)
    slugs = [r["slug"] for r in runs]
    assert len(slugs) == 24 and len(set(slugs)) == 24  # one complete run per tool
    assert all(r["decision"] != "incomplete" for r in runs)
    after = run_files(isolated_env)
    for name, data in files_before.items():
        if name.removesuffix(".json") in before:
            assert after[name] == data  # runs from before the kill untouched
    assert set(after) == {f"{r['run_id']}.json" for r in runs}  # no orphan records left
    later = [json.dumps(m["messages"]) for m in fake.message_requests[calls_before:]]
    assert later  # the rest was reviewed...
    for slug in before.values():  # ...but no tool done before the kill was called again
        name = "Tool " + slug.split("-")[1]
        assert not any(name in m for m in later), slug


def test_max_cost_stops_cleanly_and_resumes(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    """A small budget stops before the backlog is done; a higher one finishes it, nothing twice."""
    backlog, _ = make_backlog(tmp_path, 10)
    first = panel_cli(
        "batch", str(backlog), "--json", "--max-cost", "0.05", "--concurrency", "2", *FAST
    )
    assert first.code == 0, first.stderr
    out = first.json()
    assert out["status"] == "budget"
    assert 0 < out["counts"]["done"] < 10 and out["counts"]["pending"] > 0
    assert out["cost_usd"] <= 0.05
    done_first = out["counts"]["done"]
    second = panel_cli("batch", str(backlog), "--json", "--max-cost", "100", *FAST).json()
    assert second["status"] == "complete"
    assert second["counts"]["done"] == 10 and second["skipped_already_done"] == done_first


def test_failed_tools_are_redone_only_with_retry_failed(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, isolated_env: Path
) -> None:
    """An incomplete panel fails the tool (exit 1); --retry-failed reviews it again."""
    backlog, _ = make_backlog(tmp_path, 2, shared=0)
    bad = Reply(text="nope")
    fake.script("Tool 01", *[bad] * 9)  # every call of Tool 01: four personas twice, the card once
    first = panel_cli("batch", str(backlog), "--json", *FAST)
    assert first.code == 1
    assert first.json()["counts"] == {"done": 1, "failed": 1, "pending": 0}
    again = panel_cli("batch", str(backlog), "--json", *FAST)
    assert again.code == 1 and again.json()["counts"]["failed"] == 1
    fixed = panel_cli("batch", str(backlog), "--json", "--retry-failed", *FAST)
    assert fixed.code == 0 and fixed.json()["counts"] == {"done": 2, "failed": 0, "pending": 0}


def test_export_writes_every_tool(panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path) -> None:
    backlog, _ = make_backlog(tmp_path, 3)
    job = panel_cli("batch", str(backlog), "--json", *FAST).json()["job_id"]
    out = tmp_path / "out.csv"
    result = panel_cli("export", job, "--csv", str(out))
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [r["name"] for r in rows] == ["Tool 00", "Tool 01", "Tool 02"]
    for r in rows:
        assert r["label"] and r["decision"] in ("ship", "skip") and r["builder_score"].isdigit()
    assert panel_cli("export", "nope", "--csv", str(out)).code == 2


BATCHES = ["--via", "batches", "--poll", "0.05", *FAST]
ONE_ROUND = [*BATCHES, "--batch-cache", "none"]  # every request in one batch, none cached


def test_via_batches_end_to_end_with_an_expired_request_retried(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, isolated_env: Path
) -> None:
    """With `--batch-cache none`, requests go through one batch with no cache_control; results come
    back shuffled and are mapped back by custom_id; an expired and a transiently errored request
    are redone live."""
    fake.batch_delay = 0.05
    backlog, unique = make_backlog(tmp_path, 6)
    fake.expire_in_batch("p-skeptic")
    fake.error_in_batch("card", "overloaded_error")
    result = panel_cli("batch", str(backlog), "--json", *ONE_ROUND)
    assert result.code == 0, result.stderr
    out = result.json()
    assert out["counts"] == {"done": 6, "failed": 0, "pending": 0}
    assert out["batches"] == 1 and len(fake.batches) == 1
    assert out["batch_retries"] == {"expired": 1, "errored": 1}
    assert any("redone live" in n and "1 expired" in n for n in out["notes"])
    assert len(fake.uploads) == unique
    batch = next(iter(fake.batches.values()))
    requests = batch["_requests"]
    assert len(requests) == 6 * 5  # four personas and the card per tool
    for r in requests:
        blocks = r["params"]["messages"][0]["content"]
        assert "cache_control" not in blocks[-2]
        assert r["params"]["output_config"]["format"]["type"] == "json_schema"
    # results were shuffled; every verdict landed on its own tool and persona
    order = [line["custom_id"] for line in batch["_results"]]
    assert order != sorted(order, key=[r["custom_id"] for r in requests].index)
    live = [m for m in fake.message_requests if m["_status"] == 200]
    assert len(live) == 2  # only the expired and the errored request went live
    for run in job_runs(isolated_env):
        record = json.loads((isolated_env / run["path"]).read_text())
        assert [v["persona"] for v in record["verdicts"]] == [
            "builder",
            "skeptic",
            "founder",
            "futurist",
        ]
        assert all(v["status"] == "ok" for v in record["verdicts"])
        assert record["tool"]["card"] is not None
        assert run["run_id"] in {r["custom_id"].split("_")[0] for r in requests}


def usage_of(batch: dict[str, Any]) -> list[dict[str, int]]:
    return [line["result"]["message"]["usage"] for line in batch["_results"]]


def test_warm_batches_write_the_documents_once_and_read_them_three_times(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    """A batch's requests run concurrently (the fake, like the API, opens a batch's cache entries
    only once all are done), so the default sends one persona per tool first, marked to write the
    documents' 1-hour entry, and the other three in a second batch that reads it. The card call
    never caches, live or batched. One round with no caching costs more; both beat live."""
    fake.batch_delay = 0.05
    backlog, _ = make_backlog(tmp_path, 2)
    live = panel_cli("batch", str(backlog), "--json", "--job", "live", *FAST).json()["cost_usd"]
    card_calls = [m for m in fake.message_requests if "claude-haiku" in m["model"]]
    assert card_calls and not any("cache_control" in json.dumps(m) for m in card_calls)

    fake.clear_cache()
    warm = panel_cli("batch", str(backlog), "--json", "--job", "warm", *BATCHES).json()
    assert warm["counts"]["done"] == 2 and warm["batches"] == 2
    first, second = fake.batches.values()
    personas = [r["custom_id"].split("_", 1)[1] for r in first["_requests"]]
    assert sorted(personas) == ["card", "card", "p-builder", "p-builder"]
    for r in first["_requests"]:
        marked = "cache_control" in json.dumps(r["params"])
        assert marked == r["custom_id"].endswith("p-builder")
    assert [u["cache_creation_input_tokens"] > 0 for u in usage_of(first)].count(True) == 2
    assert len(second["_requests"]) == 2 * 3
    assert all('"ttl": "1h"' in json.dumps(r["params"]) for r in second["_requests"])
    reads = usage_of(second)
    assert all(
        u["cache_read_input_tokens"] > 0 and not u["cache_creation_input_tokens"] for u in reads
    )

    fake.clear_cache()
    flat = panel_cli("batch", str(backlog), "--json", "--job", "flat", *ONE_ROUND).json()
    sent = [r["params"] for r in list(fake.batches.values())[2]["_requests"]]
    assert len(sent) == 2 * 5 and not any("cache_control" in json.dumps(p) for p in sent)
    assert warm["cost_usd"] < 0.8 * flat["cost_usd"]
    assert warm["cost_usd"] < 0.7 * live


def test_a_stale_warm_up_is_not_read(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, isolated_env: Path
) -> None:
    """A warm-up batch created long enough ago that its entries may have expired: the second round
    goes without cache_control rather than paying a 1-hour write per persona."""
    fake.batch_delay = 30.0  # still processing when the first command returns
    backlog, _ = make_backlog(tmp_path, 1)
    first = panel_cli("batch", str(backlog), "--json", "--no-wait", *BATCHES)
    assert first.code == 0, first.stderr
    assert len(fake.batches) == 1
    with sqlite3.connect(isolated_env / "panel.db") as db:
        db.execute("UPDATE job_batches SET created_at = '2026-01-01T00:00:00+00:00'")
    fake.batch_delay = 0.05
    for batch in fake.batches.values():
        batch["_ends"] = 0  # the warm-up ends, long after it was created
    out = panel_cli("batch", str(backlog), "--json", *BATCHES).json()
    assert out["counts"]["done"] == 1 and len(fake.batches) == 2
    second = list(fake.batches.values())[1]
    assert len(second["_requests"]) == 3
    assert not any("cache_control" in json.dumps(r["params"]) for r in second["_requests"])


def test_interrupted_batches_job_resumes_polling_without_resubmitting(
    fake: FakeAnthropic, tmp_path: Path, isolated_env: Path, panel_cli: Cli
) -> None:
    """kill -9 while the batch is processing (polled at least once, not ended, no run kept); the
    rerun polls the same batch, submits nothing."""
    fake.batch_delay = 3.0
    backlog, _ = make_backlog(tmp_path, 4)
    proc = spawn_batch(fake, isolated_env, tmp_path, backlog, *BATCHES)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (fake.batches and polls(fake)):
        time.sleep(0.02)
    [batch] = fake.batches.values()
    assert polls(fake) and time.time() < batch["_ends"]  # being polled, still processing
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert len(fake.batches) == 1 and job_runs(isolated_env) == []  # killed mid-work
    result = panel_cli("batch", str(backlog), "--json", *BATCHES)
    assert result.code == 0, result.stderr
    out = result.json()
    assert len(fake.batches) == 2 and out["batches"] == 2  # the same warm-up, then the rest
    assert out["counts"] == {"done": 4, "failed": 0, "pending": 0}
    assert len(job_runs(isolated_env)) == 4
    assert not [m for m in fake.message_requests if m["_status"] == 200]  # nothing redone live


def polls(fake: FakeAnthropic) -> int:
    """GETs of a batch's status that the fake answered (a worker polling it)."""
    ids = {f"/v1/messages/batches/{b}" for b in list(fake.batches)}
    return sum(1 for method, path, status in list(fake.requests) if method == "GET" and path in ids)


def test_kill_between_batch_create_and_its_record_adopts_the_batch(
    fake: FakeAnthropic, tmp_path: Path, isolated_env: Path, panel_cli: Cli
) -> None:
    """kill -9 while the create is in flight (the server makes the batch, we never learn its id):
    the rerun finds that batch on the server and adopts it instead of submitting the work again."""
    fake.batch_create_delay = 1.0
    backlog, _ = make_backlog(tmp_path, 3)
    proc = spawn_batch(fake, isolated_env, tmp_path, backlog, *BATCHES)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not fake.batch_creates_started:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    while time.monotonic() < deadline and not fake.batches:
        time.sleep(0.02)  # the server finishes the create the client no longer waits for
    assert len(fake.batches) == 1
    fake.batch_create_delay = 0.0
    result = panel_cli("batch", str(backlog), "--json", *BATCHES)
    assert result.code == 0, result.stderr
    out = result.json()
    assert len(fake.batches) == 2 and fake.batch_creates_started == 2  # adopted, then the rest
    assert any("adopted batch" in note for note in out["notes"])
    assert out["counts"] == {"done": 3, "failed": 0, "pending": 0}
    assert len(job_runs(isolated_env)) == 3


def test_create_that_never_reached_the_server_is_submitted_again(
    fake: FakeAnthropic, tmp_path: Path, isolated_env: Path, panel_cli: Cli
) -> None:
    """An intent with no batch on the server (the create failed) is forgotten and resubmitted."""
    fake.fail_next(400, path="/v1/messages/batches")
    backlog, _ = make_backlog(tmp_path, 2)
    assert panel_cli("batch", str(backlog), *ONE_ROUND).code != 0
    assert not fake.batches
    result = panel_cli("batch", str(backlog), "--json", *ONE_ROUND)
    assert result.code == 0, result.stderr
    assert len(fake.batches) == 1
    assert result.json()["counts"] == {"done": 2, "failed": 0, "pending": 0}


def test_batches_with_max_cost_submit_what_fits_and_resume(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.batch_delay = 0.05
    backlog, _ = make_backlog(tmp_path, 6)
    first = panel_cli("batch", str(backlog), "--json", "--max-cost", "0.05", *BATCHES).json()
    assert first["status"] == "budget"
    assert 0 < first["counts"]["done"] < 6
    second = panel_cli("batch", str(backlog), "--json", *BATCHES).json()
    assert second["counts"]["done"] == 6 and len(fake.batches) == 4  # two rounds each


def test_a_refused_key_stops_the_job_with_one_line(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    """A 401 mid-job is a setup error: one line, exit 2, and the tools are left to a rerun."""
    backlog, _ = make_backlog(tmp_path, 3)
    fake.fail_next(401, count=100)
    result = panel_cli("batch", str(backlog), *FAST)
    assert result.code == 2
    assert "rejected the key" in result.stderr and "Traceback" not in result.stderr
    fake._faults.clear()  # the key works again
    again = panel_cli("batch", str(backlog), "--json", *FAST)
    assert again.code == 0 and again.json()["counts"]["done"] == 3


def test_a_permanent_batch_error_is_a_failed_verdict_not_a_retry(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, isolated_env: Path
) -> None:
    """An invalid_request_error in a batch will not get better live: the verdict fails as data."""
    fake.batch_delay = 0.05
    backlog, _ = make_backlog(tmp_path, 1)
    fake.error_in_batch("p-founder", "invalid_request_error")
    out = panel_cli("batch", str(backlog), "--json", *BATCHES).json()
    assert out["counts"]["done"] == 1 and out["batch_retries"] == {}
    record = json.loads((isolated_env / job_runs(isolated_env)[0]["path"]).read_text())
    founder = next(v for v in record["verdicts"] if v["persona"] == "founder")
    assert founder["status"] == "failed" and "Injected error" in founder["error"]
    assert not [m for m in fake.message_requests if m["_status"] == 200]
