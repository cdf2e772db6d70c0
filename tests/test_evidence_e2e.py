"""Evidence end to end: the real `panel` command records each verdict's quotes with what the check
found, against the fake API quoting the documents it was sent (or, when told, inventing one)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic
from tests.pages import PageServer

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]
INVENTED = "It is the only tool that ever needs zero configuration on every platform."


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    path = tmp_path / "acme.md"
    path.write_text(
        "# Acme CLI\n\nAcme turns a backlog of tools into written reviews.\n"
        "It runs the four   reviewers at once and keeps\nevery run in SQLite.\n"
        "Teams pay twenty dollars per seat after the free tier.\n"
    )
    return path


def test_review_records_evidence_and_show_json_has_it(
    panel_cli: Cli, fake: FakeAnthropic, notes: Path
) -> None:
    """Each verdict keeps its quotes with a status; an invented quote is `not found`."""
    fake.invent_quote("as the Skeptic")
    result = panel_cli("review", str(notes), "--name", "Acme", "--json")
    assert result.code == 0, result.stderr
    shown = panel_cli("show", "acme", "--json")
    assert shown.code == 0, shown.stderr
    record = shown.json()
    assert record["schema_version"] == 2
    by_persona = {v["persona"]: v["evidence"] for v in record["verdicts"]}
    for persona, evidence in by_persona.items():
        real = [e for e in evidence if e["quote"] != INVENTED]
        assert real and all(e["status"] == "verified" for e in real), persona
        assert all(e["document_index"] == 0 and e["document"] == "acme.md" for e in real)
        assert all(e["quote"].rstrip(".") in " ".join(notes.read_text().split()) for e in real)
    (invented,) = [e for e in by_persona["skeptic"] if e["quote"] == INVENTED]
    assert invented["status"] == "not found"
    assert all(INVENTED not in json.dumps(by_persona[p]) for p in ("builder", "founder"))
    assert result.json()["verdicts"] == record["verdicts"]


def test_scorecard_says_how_many_quotes_were_found(
    panel_cli: Cli, fake: FakeAnthropic, notes: Path
) -> None:
    """`panel show` prints each quote under its paragraph and flags the invented one."""
    fake.invent_quote("as the Builder")
    assert panel_cli("review", str(notes), "--name", "Acme").code == 0
    out = panel_cli("show", "acme").stdout
    assert "✗ not found:" in out and INVENTED[:40] in out
    assert "✓" in out and " quotes found in the sources" in out


def test_quote_from_a_fetched_page_names_the_page(
    panel_cli: Cli, fake: FakeAnthropic, site: PageServer
) -> None:
    """A page's quotes are verified against the text extracted from it and point at its URL."""
    result = panel_cli("review", f"{site.url}/product", "--allow-private", "--json")
    assert result.code == 0, result.stderr
    out = result.json()
    (doc,) = out["documents"]
    for v in out["verdicts"]:
        assert v["evidence"] and {e["status"] for e in v["evidence"]} == {"verified"}
        assert {e["document"] for e in v["evidence"]} == {doc["title"]}


def test_review_page_flags_the_paragraph_with_an_invented_quote(
    panel_cli: Cli, fake: FakeAnthropic, notes: Path, tmp_path: Path
) -> None:
    """The Markdown page of a recorded run flags the verdict whose quote was not found."""
    fake.invent_quote("as the Founder")
    assert panel_cli("review", str(notes), "--name", "Acme").code == 0
    page = tmp_path / "acme.md.out"
    assert panel_cli("show", "acme", "--format", "md", "--out", str(page)).code == 0
    text = page.read_text()
    assert text.count("**⚠ ") == 1 and "Not found in the sources" in text


def test_eval_reports_the_share_of_verified_quotes(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path
) -> None:
    """`panel eval` counts each persona's quotes: the Skeptic's invented ones lower its share."""
    fake.invent_quote("as the Skeptic", count=1000)
    out = tmp_path / "eval"
    suite = str(Path(__file__).parent / "eval_suite.yaml")
    result = panel_cli("eval", suite, "--samples", "1", "--offline", "--json", "--out", str(out))
    assert result.code == 0, result.stderr
    rows = {r["who"]: r for r in result.json()["evidence"]}
    assert rows["builder"]["verified_share"] == 1.0 and rows["builder"]["quotes"] > 0
    skeptic = rows["skeptic"]
    assert 0 < skeptic["verified_share"] < 1 and skeptic["not_found"] > 0
    assert rows["panel"]["not_found"] == skeptic["not_found"]
    assert "| Skeptic |" in (out / "report.md").read_text().split("## Evidence")[1]


def test_message_batches_results_carry_checked_evidence(
    panel_cli: Cli, fake: FakeAnthropic, notes: Path, tmp_path: Path, isolated_env: Path
) -> None:
    """A verdict that came back from a Message Batch is checked like a live one."""
    fake.batch_delay = 0.05
    fake.invent_quote("as the Futurist")
    backlog = tmp_path / "backlog.jsonl"
    backlog.write_text(json.dumps({"name": "Acme", "files": str(notes)}) + "\n")
    fast = ["--rpm", "100000", "--itpm", "0", "--otpm", "0"]
    args = ["--via", "batches", "--poll", "0.05", "--batch-cache", "none", *fast]
    result = panel_cli("batch", str(backlog), "--json", *args)
    assert result.code == 0, result.stderr
    assert len(fake.batches) == 1 and not [m for m in fake.message_requests if m["_status"] == 200]
    record = panel_cli("show", "acme", "--json").json()
    statuses = {v["persona"]: [e["status"] for e in v["evidence"]] for v in record["verdicts"]}
    assert statuses["futurist"][-1] == "not found"
    assert all(s == ["verified"] * len(s) and s for p, s in statuses.items() if p != "futurist")
