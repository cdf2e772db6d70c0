"""`panel review --samples K` end to end: K calls a persona, one cache write, the spread shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic, Reply

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]


@pytest.fixture
def long_doc(tmp_path: Path) -> str:
    """A document past the cache minimum, so the persona calls share a cached prefix."""
    path = tmp_path / "long.md"
    path.write_text("# Longdoc\n\n" + "Longdoc caches a long prefix.\n" * 400)
    return str(path)


def persona_calls(fake: FakeAnthropic) -> list[dict[str, object]]:
    return [r for r in fake.message_requests if "tool card" not in json.dumps(r["messages"])]


def test_three_samples_keep_the_median_and_show_the_spread(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """Skeptic scripted 70/74/80: its verdict is 74 with spread 4.1, in JSON and on the scorecard."""
    fake.script(
        "as the Skeptic",
        Reply.verdict(70, "skip"),
        Reply.verdict(74, "ship", "The median sample."),
        Reply.verdict(80, "ship"),
    )
    result = panel_cli("review", long_doc, "--name", "Longdoc", "--samples", "3", "--json")
    assert result.code == 0, result.stderr
    out = result.json()
    skeptic = next(v for v in out["verdicts"] if v["persona"] == "skeptic")
    assert (skeptic["score"], skeptic["decision"], skeptic["spread"]) == (74, "ship", 4.1)
    assert sorted(skeptic["samples"]) == [70, 74, 80] and skeptic["samples_failed"] == 0
    assert skeptic["rationale"] == "The median sample."
    assert all(len(v["samples"]) == 3 for v in out["verdicts"])
    assert len(persona_calls(fake)) == 12
    shown = panel_cli("show", "longdoc").stdout
    assert "74/100 ± 4 · ship" in shown and "median of" in shown


def test_the_cache_is_written_once_for_every_sample(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """Sample 1 of the Builder streams and writes the prefix; the other eleven calls read it."""
    fake.latency = (0.2, 0.3)
    out = panel_cli("review", long_doc, "--samples", "3", "--json").json()
    usages = [v["usage"] for v in out["verdicts"]]
    written = [u["cache_creation_input_tokens"] for u in usages]
    prefix = written[0]
    assert prefix > 0 and written[1:] == [0, 0, 0]
    assert [u["cache_read_input_tokens"] for u in usages] == [2 * prefix] + [3 * prefix] * 3
    streamed = [r for r in persona_calls(fake) if r.get("stream")]
    assert len(streamed) == 1 and "the Builder" in json.dumps(streamed[0]["messages"])


def test_one_sample_by_default_records_no_ensemble(
    panel_cli: Cli, fake: FakeAnthropic, long_doc: str
) -> None:
    """Without --samples: one call a persona, the ensemble fields null, no spread on the scorecard."""
    result = panel_cli("review", long_doc, "--name", "Longdoc", "--json")
    assert result.code == 0, result.stderr
    for v in result.json()["verdicts"]:
        assert (v["samples"], v["samples_failed"], v["spread"]) == (None, None, None)
    assert len(persona_calls(fake)) == 4
    assert "±" not in panel_cli("show", "longdoc").stdout


@pytest.mark.parametrize("k", ["0", "-2", "26", "99999"])
def test_samples_outside_one_to_twenty_five_is_refused_in_one_line(
    panel_cli: Cli, fake: FakeAnthropic, k: str
) -> None:
    """--samples 0 (or 99999, a typo worth $2,000) is bad input (exit 2), refused before any
    call."""
    result = panel_cli("review", "--description", "A tool.", "--samples", k)
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0 and f"--samples {k}" in result.stderr
    assert fake.message_requests == []


def test_dry_run_estimate_counts_every_sample(panel_cli: Cli, long_doc: str) -> None:
    """--dry-run with --samples 3: three times the persona output, one write, eleven reads."""
    one = panel_cli("review", long_doc, "--dry-run", "--json").json()
    three = panel_cli("review", long_doc, "--dry-run", "--samples", "3", "--json").json()
    model = one["model"]
    a, b = one["estimate"]["usage"]["models"][model], three["estimate"]["usage"]["models"][model]
    assert b["output_tokens"] == 3 * a["output_tokens"]
    assert b["cache_creation_input_tokens"] == a["cache_creation_input_tokens"] > 0
    assert b["cache_read_input_tokens"] == 11 * a["cache_read_input_tokens"] // 3
    assert three["samples"] == 3 and three["estimate"]["cost_usd"] > one["estimate"]["cost_usd"]


def test_rerun_takes_samples(panel_cli: Cli, fake: FakeAnthropic, long_doc: str) -> None:
    """`panel rerun --samples 2` asks each persona twice."""
    assert panel_cli("review", long_doc, "--name", "Longdoc").code == 0
    result = panel_cli("rerun", "longdoc", "--samples", "2", "--json")
    assert result.code == 0, result.stderr
    assert all(len(v["samples"]) == 2 for v in result.json()["run"]["verdicts"])
