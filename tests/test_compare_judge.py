"""`panel compare A B --judge` end to end against the fake API: asked, recorded, shown, reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_anthropic import FakeAnthropic

ZED = (
    "# Zed\n\nZed is a code editor written in Rust that opens large projects in well under a second. "
    "It renders every frame on the GPU, so scrolling a long file never stutters on a laptop. "
    "Teams edit the same buffer together in real time, with cursors and selections shared. "
)
KESTREL = (
    "# Kestrel\n\nKestrel is a hosted uptime monitor that checks an endpoint from twelve regions. "
    "It pages the on-call engineer through Slack or SMS when two regions agree a check failed. "
    "The free plan covers five monitors; the team plan is $20 per seat a month. "
)
FILLER = "It is described in plain words, one claim after another, for a careful reader. "


@pytest.fixture
def two_tools(fake, isolated_env: Path, tmp_path: Path, monkeypatch) -> None:
    """Zed and Kestrel reviewed (in-process, against the fake), each from a document long
    enough for the prompt cache."""
    import panel

    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    for name, text in (("Zed", ZED), ("Kestrel", KESTREL)):
        path = tmp_path / f"{name.lower()}.md"
        path.write_text(text + FILLER * 60, encoding="utf-8")
        run = panel.review(str(path), name=name, home=isolated_env)
        assert run.panel.decision != "incomplete"


def pairwise_calls(fake: FakeAnthropic) -> list[dict]:
    return [
        r
        for r in fake.message_requests
        if "pick"
        in r.get("output_config", {}).get("format", {}).get("schema", {}).get("properties", {})
    ]


def test_judge_records_and_shows_verdict_and_cost(panel_cli, fake, two_tools):
    """--judge prints the estimate, the verdict and the cost, and records the comparison."""
    fake.pairwise_prefer = "Kestrel"
    result = panel_cli("compare", "Zed", "Kestrel", "--judge", "--json")
    assert result.code == 0, result.stderr
    assert "Estimate" in result.stderr and "cost $" in result.stderr
    record = result.json()["pairwise_record"]
    assert record["decision"]["label"] == "Kestrel · 4 of 4 reviewers, order-stable"
    assert len(pairwise_calls(fake)) == 8


def test_order_dependent_picks_are_ties(panel_cli, fake, two_tools):
    """A model that always picks the first tool gets a tie from every persona, flagged as flipped."""
    fake.pairwise_bias = "first"
    result = panel_cli("compare", "Zed", "Kestrel", "--judge", "--json")
    assert result.code == 0, result.stderr
    decision = result.json()["pairwise_record"]["decision"]
    assert (decision["winner"], decision["ties"], decision["flipped"]) == ("tie", 4, 4)


def test_second_judge_reuses_files_and_reads_cache(panel_cli, fake, two_tools):
    """A second --judge uploads nothing and every call reads the documents from the cache."""
    uploads = len(fake.uploads)
    first = panel_cli("compare", "Zed", "Kestrel", "--judge")
    assert first.code == 0, first.stderr
    second = panel_cli("compare", "Zed", "Kestrel", "--judge", "--json")
    assert second.code == 0, second.stderr
    asks = [ask for v in second.json()["pairwise_record"]["votes"] for ask in v["asks"]]
    assert len(fake.uploads) == uploads
    assert len(asks) == 8
    assert all(a["usage"]["cache_read_input_tokens"] > 0 for a in asks)
    assert not any(a["usage"]["cache_creation_input_tokens"] for a in asks)


def test_first_judge_writes_each_order_once(panel_cli, fake, two_tools):
    """In a first --judge each order's documents are written to the cache once and read thrice."""
    result = panel_cli("compare", "Zed", "Kestrel", "--judge", "--json")
    assert result.code == 0, result.stderr
    votes = result.json()["pairwise_record"]["votes"]
    for order in ("ab", "ba"):
        asks = [a for v in votes for a in v["asks"] if a["order"] == order]
        writes = sum(1 for a in asks if a["usage"]["cache_creation_input_tokens"] > 0)
        reads = sum(1 for a in asks if a["usage"]["cache_read_input_tokens"] > 0)
        assert (writes, reads) == (1, 3)


def test_compare_without_judge_shows_stored_verdict(panel_cli, fake, two_tools):
    """`panel compare A B` after a --judge shows the stored verdict, without a call."""
    fake.pairwise_prefer = "Zed"
    assert panel_cli("compare", "Zed", "Kestrel", "--judge").code == 0
    calls = len(fake.message_requests)
    result = panel_cli("compare", "Kestrel", "Zed")
    assert result.code == 0, result.stderr
    assert "Zed · 4 of 4 reviewers, order-stable" in result.stdout
    assert len(fake.message_requests) == calls


def test_dry_run_sends_nothing(panel_cli, fake, two_tools):
    """--judge --dry-run prints the estimate and makes no call."""
    calls = len(fake.message_requests)
    result = panel_cli("compare", "Zed", "Kestrel", "--judge", "--dry-run")
    assert result.code == 0, result.stderr
    assert "Estimate: $" in result.stderr and "8 calls" in result.stderr
    assert len(fake.message_requests) == calls


def test_max_cost_refuses_before_any_call(panel_cli, fake, two_tools):
    """--max-cost under the estimate refuses in one line, exit 2, nothing sent."""
    calls = len(fake.message_requests)
    result = panel_cli("compare", "Zed", "Kestrel", "--judge", "--max-cost", "0.000001")
    assert result.code == 2
    assert "more than --max-cost" in result.stderr and "Traceback" not in result.stderr
    assert len(fake.message_requests) == calls


def test_lost_file_is_uploaded_again_once(panel_cli, fake, two_tools):
    """A file deleted on the server is re-uploaded once and the comparison completes."""
    gone = fake.uploads[0]["file_id"]
    fake.delete_file(gone)
    uploads = len(fake.uploads)
    result = panel_cli("compare", "Zed", "Kestrel", "--judge", "--json")
    assert result.code == 0, result.stderr
    assert len(fake.uploads) == uploads + 1
    assert result.json()["pairwise_record"]["decision"]["failed"] == 0
