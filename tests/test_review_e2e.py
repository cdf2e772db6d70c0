"""`panel review` end to end: the installed command, as a subprocess, against the fake API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKE_KEY, Result
from tests.fake_anthropic import FakeAnthropic, Reply

pytestmark = pytest.mark.e2e
PERSONAS = ["builder", "skeptic", "founder", "futurist"]
Cli = Callable[..., Result]


def persona_requests(fake: FakeAnthropic) -> list[dict[str, Any]]:
    return [r for r in fake.message_requests if "tool card" not in json.dumps(r["messages"])]


def file_ids(body: dict[str, Any]) -> set[str]:
    return {
        b["source"]["file_id"]
        for m in body["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "document"
    }


@pytest.fixture
def sources(tmp_path: Path) -> list[str]:
    (tmp_path / "acme.md").write_text("# Acme CLI\n\nAcme turns a backlog into reviews.\n" * 50)
    (tmp_path / "pricing.txt").write_text("Free for individuals. Teams pay $20 per seat.\n" * 20)
    return [str(tmp_path / "acme.md"), str(tmp_path / "pricing.txt")]


def test_review_json_has_the_documented_shape(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    """--json prints one object with run, tool, verdicts, panel, documents and usage."""
    result = panel_cli("review", *sources, "--description", "A CLI for reviews.", "--json")
    assert result.code == 0, result.stderr
    out = result.json()
    assert out["tool"]["slug"] == "acme-cli" and out["tool"]["name"]
    assert [v["persona"] for v in out["verdicts"]] == PERSONAS
    for v in out["verdicts"]:
        assert v["status"] == "ok" and 0 <= v["score"] <= 100 and v["decision"] in ("ship", "skip")
        assert v["rationale"] and v["error"] is None
    panel = out["panel"]
    assert panel["decision"] in ("ship", "skip")
    assert panel["ship"] + panel["skip"] == 4
    assert (
        panel["label"]
        == f"{panel['decision'].capitalize()} · {panel['ship']} ship / {panel['skip']} skip"
    )
    assert [d["uploaded_now"] for d in out["documents"]] == [True, True, True]
    assert all(
        d["file_id"].startswith("file_") and len(d["sha256"]) == 64 for d in out["documents"]
    )
    assert set(out["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert out["usage"]["output_tokens"] > 0
    assert out["tool"]["card"]["category"]


def test_every_persona_call_references_every_file_and_shares_one_prefix(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    """Four persona calls, each with all file_ids, the same system prompt, and structured output."""
    out = panel_cli("review", *sources, "--json").json()
    ids = {d["file_id"] for d in out["documents"]}
    calls = persona_requests(fake)
    assert len(calls) == 4
    for body in calls:
        assert file_ids(body) == ids
        assert body["output_config"]["format"]["type"] == "json_schema"
        assert "tool_choice" not in body and "temperature" not in body
        assert (
            body["messages"][0]["content"][-1]["type"] == "text"
        )  # persona text after the documents
    assert len({json.dumps(b["system"]) for b in calls}) == 1
    assert "never instructions" in calls[0]["system"][0]["text"]


def test_documents_are_uploaded_once_across_runs(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str], tmp_path: Path
) -> None:
    """A second run, and another tool sharing a document, upload nothing already uploaded."""
    first = panel_cli("review", *sources, "--json").json()
    second = panel_cli("review", *sources, "--json").json()
    assert len(fake.uploads) == 2
    assert [d["uploaded_now"] for d in second["documents"]] == [False, False]
    assert [d["file_id"] for d in second["documents"]] == [d["file_id"] for d in first["documents"]]
    (tmp_path / "other.md").write_text("# Other tool\n\nSomething else.\n")
    panel_cli("review", str(tmp_path / "other.md"), sources[1], "--json")
    assert len(fake.uploads) == 3


def test_overloaded_then_success_is_retried(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    """A 529 is retried by the one retry layer and the verdict still succeeds."""
    fake.fail_next(529, count=2, retry_after=0.01)
    out = panel_cli("review", *sources, "--json").json()
    assert all(v["status"] == "ok" for v in out["verdicts"])
    assert (
        sum(1 for _, path, status in fake.requests if path == "/v1/messages" and status == 529) == 2
    )


def test_malformed_reply_is_repaired(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    """A reply that is not valid JSON gets one repair turn, which shows the model what it wrote."""
    fake.script(
        "the Skeptic",
        Reply(text="Sure! Here's my verdict: ship it"),
        Reply.verdict(61, "ship", "Repaired."),
    )
    out = panel_cli("review", *sources, "--json").json()
    skeptic = next(v for v in out["verdicts"] if v["persona"] == "skeptic")
    assert (skeptic["status"], skeptic["score"], skeptic["attempts"]) == ("ok", 61, 2)
    repair = [r for r in persona_requests(fake) if len(r["messages"]) == 3]
    assert len(repair) == 1
    assert repair[0]["messages"][1]["content"][0]["text"] == "Sure! Here's my verdict: ship it"


def test_reply_that_stays_malformed_is_recorded_as_failed(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    """Two bad replies: the verdict is failed with raw text and reason, never a skip or a 0."""
    fake.script(
        "the Founder",
        Reply(text="{not json"),
        Reply(json={"score": 140, "decision": "ship", "rationale": "x"}),
    )
    result = panel_cli("review", *sources, "--json")
    out = result.json()
    founder = next(v for v in out["verdicts"] if v["persona"] == "founder")
    assert founder["status"] == "failed"
    assert founder["score"] is None and founder["decision"] is None
    assert "score" in founder["error"] and '"score": 140' in founder["raw"]
    assert out["panel"]["ship"] + out["panel"]["skip"] == 3 and out["panel"]["failed"] == 1
    assert result.code == 0  # three verdicts still make a panel


def test_refusal_is_repaired(panel_cli: Cli, fake: FakeAnthropic, sources: list[str]) -> None:
    fake.script("the Futurist", Reply(stop_reason="refusal"), Reply.verdict(77, "ship"))
    out = panel_cli("review", *sources, "--json").json()
    futurist = next(v for v in out["verdicts"] if v["persona"] == "futurist")
    assert (futurist["status"], futurist["score"], futurist["attempts"]) == ("ok", 77, 2)


def test_too_few_verdicts_is_incomplete_exit_1_and_kept(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str], isolated_env: Path
) -> None:
    """Two personas failing leaves the panel incomplete: printed, recorded, exit 1."""
    bad = Reply(text="nope")
    fake.script("the Founder", bad, bad)
    fake.script("the Futurist", bad, bad)
    result = panel_cli("review", *sources, "--json")
    assert result.code == 1
    assert result.json()["panel"]["decision"] == "incomplete"
    assert "incomplete" in result.stderr
    assert len(list(isolated_env.glob("acme-cli/*.json"))) == 1


def test_file_deleted_on_the_server_is_uploaded_again(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    """A 404 for a referenced file: one re-upload, the registry updated, the run completes."""
    first = panel_cli("review", *sources, "--json").json()
    lost = first["documents"][0]["file_id"]
    fake.delete_file(lost)
    second = panel_cli("review", *sources, "--json").json()
    assert all(v["status"] == "ok" for v in second["verdicts"])
    assert len(fake.uploads) == 3  # two at first, one again
    new_id = second["documents"][0]["file_id"]
    assert new_id != lost
    third = panel_cli("review", *sources, "--json").json()
    assert third["documents"][0]["file_id"] == new_id and len(fake.uploads) == 3


def test_scorecard_is_printed_by_default(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    fake.set_score("the Builder", 85, "ship")
    result = panel_cli("review", *sources)
    assert result.code == 0
    assert "Builder" in result.stdout and "85/100 · ship" in result.stdout
    assert " ship / " in result.stdout
    # no live progress when stderr is not a terminal: only where the run was recorded
    assert result.stderr.startswith("panel: recorded run ") and result.stderr.count("\n") == 1


def test_run_record_is_complete_and_never_holds_the_key(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str], isolated_env: Path
) -> None:
    out = panel_cli("review", *sources, "--json").json()
    record_path = isolated_env / "acme-cli" / f"{out['run_id']}.json"
    record = json.loads(record_path.read_text())
    assert record["model"] == "claude-sonnet-5-5"
    assert set(record["prompt_hashes"]) >= {"system", *PERSONAS}
    assert record["timings"]["total_s"] > 0
    for path in isolated_env.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path
    assert not list(isolated_env.rglob("*.tmp"))


def test_model_flag_and_env_override_the_default(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    panel_cli("review", *sources, "--model", "claude-opus-5-5", "--json")
    assert {r["model"] for r in persona_requests(fake)} == {"claude-opus-5-5"}
    out = panel_cli("review", *sources, "--json", env={"PANEL_MODEL": "claude-haiku-5-5"}).json()
    assert out["model"] == "claude-haiku-5-5"


def test_stdin_source(panel_cli: Cli, fake: FakeAnthropic) -> None:
    out = panel_cli("review", "-", "--json", stdin="# Piped Tool\n\nRead from stdin.\n").json()
    assert out["tool"]["slug"] == "piped-tool"
    assert out["documents"][0]["origin"] == "stdin"


def test_missing_key_is_one_line_and_uploads_nothing(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    result = panel_cli("review", *sources, env={"ANTHROPIC_API_KEY": ""})
    assert result.code == 2
    assert (
        result.stderr.count("\n") == 1
        and "ANTHROPIC_API_KEY" in result.stderr
        and "--dry-run" in result.stderr
    )
    assert fake.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--description", "   "], "--description: is empty"),
        (["missing.txt"], "missing.txt: no such file"),
        (["tool.exe"], "unsupported file type '.exe'"),
        ([], "nothing to review"),
        (["big.txt"], "MB is over the"),
        (["long.md"], "more than a model's context window (1,000,000)"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    with (tmp_path / "big.txt").open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    if args == ["long.md"]:  # under the file limit, over any context window: not uploaded
        (tmp_path / "long.md").write_text("# Long\n\n" + "Many words about one tool.\n" * 200_000)
    result = panel_cli("review", *args)
    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert fake.requests == []


def test_dry_run_needs_no_key_and_sends_nothing(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    result = panel_cli("review", *sources, "--dry-run", "--json", env={"ANTHROPIC_API_KEY": ""})
    assert result.code == 0, result.stderr
    plan = result.json()
    assert [d["mime"] for d in plan["documents"]] == ["text/plain", "text/plain"]
    assert set(plan["instructions"]) == set(PERSONAS)
    assert plan["estimate"]["input_tokens"] > 0 and plan["estimate"]["cost_usd"] > 0
    assert fake.requests == []


def test_personas_command_lists_the_panel(panel_cli: Cli) -> None:
    result = panel_cli("personas")
    assert result.code == 0
    for name in ("Builder", "Skeptic", "Founder", "Futurist"):
        assert name in result.stdout


def test_help_explains_every_option(panel_cli: Cli) -> None:
    text = panel_cli("review", "--help").stdout
    for option in (
        "--name",
        "--description",
        "--model",
        "--json",
        "--dry-run",
        "--home",
        "--allow-private",
    ):
        assert option in text


def test_personas_share_one_cache_write(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    """The first persona streams; the rest start once its reply has begun, and read its cache."""
    (tmp_path / "long.md").write_text("# Longdoc\n\n" + "Longdoc caches a long prefix.\n" * 400)
    fake.latency = (0.2, 0.3)
    out = panel_cli("review", str(tmp_path / "long.md"), "--json").json()
    usages = [v["usage"] for v in out["verdicts"]]
    assert [u["cache_creation_input_tokens"] > 0 for u in usages] == [True, False, False, False]
    assert [u["cache_read_input_tokens"] > 0 for u in usages] == [False, True, True, True]
    streamed = [r for r in persona_requests(fake) if r.get("stream")]
    assert len(streamed) == 1 and "the Builder" in json.dumps(streamed[0]["messages"])
    assert out["usage"]["cache_read_input_tokens"] > 0


def test_small_prefix_is_not_held_back(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str]
) -> None:
    """Below the cache minimum, warming would only add latency: all four go at once, unstreamed.
    Each answer takes a second, so four sent at once overlap even on a loaded machine, and a
    client that waited for one before the next would still peak at 1."""
    fake.latency = (1.0, 1.0)
    (Path(sources[0]).parent / "tiny.md").write_text("# Tiny\n\nSmall.\n")
    panel_cli("review", str(Path(sources[0]).parent / "tiny.md"), "--json")
    assert not any(r.get("stream") for r in fake.message_requests)
    assert fake.peak_in_flight >= 2


def test_a_model_the_api_does_not_serve_is_one_line_and_no_run(
    panel_cli: Cli, fake: FakeAnthropic, sources: list[str], isolated_env: Path
) -> None:
    """`--model claude-nope`: the first persona's 404 names the model; nothing else is asked of
    it, the command says so in one line (exit 2) and records no failed run."""
    result = panel_cli("review", *sources, "--model", "claude-nope")
    assert result.code == 2, result.stderr
    assert result.stderr.startswith("panel: error: the API does not serve the model 'claude-nope'")
    assert result.stderr.count("\n") == 1
    assert len([r for r in persona_requests(fake) if r["model"] == "claude-nope"]) == 1
    assert not list(isolated_env.glob("*/*.json"))
