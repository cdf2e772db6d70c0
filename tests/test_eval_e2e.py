"""`panel eval` end to end against the fake API: scripted disagreement and bias show in the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from panel.errors import InputError
from panel.eval.suite import load_suite
from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic, Reply

Cli = Callable[..., Result]
SUITE = str(Path(__file__).parent / "eval_suite.yaml")
PERSONAS = {
    "builder": "Builder",
    "skeptic": "Skeptic",
    "founder": "Founder",
    "futurist": "Futurist",
}
# Per tool: 3 plain runs + boilerplate + hostile (one document each, so no reversed variant).
REVIEWS_PER_TOOL = 5


def script_bias(fake: FakeAnthropic) -> None:
    """The Builder ships everything, the Skeptic skips everything, the Futurist follows the labels,
    and the Founder cannot make up its mind about Quillbase."""
    fake.set_score("as the Builder", 90, "ship")
    fake.set_score("as the Skeptic", 20, "skip")
    for tool, (score, decision) in {
        "Quillbase": (85, "ship"),
        "Ferrytale": (30, "skip"),
        "Moonlint": (80, "ship"),
    }.items():
        fake.set_score(f"on {tool} as the Futurist", score, decision)
        fake.set_score(f"on {tool} as the Founder", score, decision)
    fake.script(
        "on Quillbase as the Founder",
        Reply.verdict(80, "ship"),
        Reply.verdict(30, "skip"),
        Reply.verdict(76, "ship"),
    )


def test_the_report_shows_scripted_disagreement_and_bias(
    panel_cli: Cli, fake: FakeAnthropic, tmp_path: Path, isolated_env: Path
) -> None:
    """Founder's spread and flips on Quillbase, the Skeptic's and Builder's one-sided confusion
    tables, and a panel that follows the labels; report.md/html/json written, data home untouched."""
    script_bias(fake)
    out = tmp_path / "eval"
    result = panel_cli("eval", SUITE, "--samples", "3", "--offline", "--json", "--out", str(out))
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["cost"]["reviews"] == 3 * REVIEWS_PER_TOOL

    quill = next(t for t in report["tools"] if t["name"] == "Quillbase")
    founder = next(p for p in quill["personas"] if p["persona"] == "founder")
    assert founder["scores"] == [80, 30, 76] and founder["decisions"] == ["ship", "skip", "ship"]
    assert founder["spread"] == pytest.approx(22.69, abs=0.01) and founder["agree_share"] == 0.667

    consistency = {r["who"]: r for r in report["consistency"]}
    assert consistency["builder"]["max_spread"] == 0.0
    assert consistency["founder"]["max_spread"] == pytest.approx(22.69, abs=0.01)

    agreement = {r["who"]: r for r in report["agreement"]}
    assert agreement["skeptic"]["confusion"] == {
        "ship": {"ship": 0, "skip": 2},
        "skip": {"ship": 0, "skip": 1},
    }
    assert agreement["builder"]["balanced_accuracy"] == 0.5 and agreement["builder"]["kappa"] == 0
    assert agreement["futurist"]["accuracy"] == 1.0
    assert agreement["panel"]["accuracy"] == 1.0 and agreement["panel"]["kappa"] == 1.0
    # Founder and Futurist both match every label; a tie goes to the first in panel order.
    assert report["best_member"] == "founder" and report["panel_beats_best"] is False

    robustness = {(r["variant"], r["who"]): r for r in report["robustness"]}
    assert set(v for v, _ in robustness) == {"boilerplate", "hostile"}
    assert robustness[("hostile", "builder")]["mean_abs_delta"] == 0

    markdown = (out / "report.md").read_text()
    assert "| Founder | 7.56 | 22.69 | 89% | 22% |" in markdown
    # The Founder's skip ties the panel 2-2 under the threshold: the panel label flips once.
    assert "| Panel | 1.91 | 5.72 | 89% | 22% |" in markdown
    assert (
        "| Quillbase | ship | ship ×2, skip ×1 | 90 ± 0 | 20 ± 0 | 62 ± 22.7 | 85 ± 0 |" in markdown
    )
    assert "| Skeptic | 3 | 33% | 50% | 0 | 0 ship / 2 skip | 0 ship / 1 skip |" in markdown
    html = (out / "report.html").read_text()
    assert "<svg" in html and "Score spread per persona" in html and "<script" not in html
    assert json.loads((out / "report.json").read_text())["samples"] == 3
    assert (out / "home" / "panel.db").exists()
    assert not isolated_env.exists()  # nothing in the user's data home: `panel list` stays empty


def test_a_persona_request_carries_no_other_personas_text(
    panel_cli: Cli, fake: FakeAnthropic
) -> None:
    """Each persona's requests hold its own instruction only: no other persona's name-line and
    none of the paragraphs the other personas wrote (the panel never converges by reading)."""
    secrets = {pid: f"{pid.upper()}-ONLY reasoning marker" for pid in PERSONAS}
    for pid, name in PERSONAS.items():
        fake.script(f"as the {name}.", *[Reply.verdict(70, "ship", secrets[pid])] * 20)
    result = panel_cli("eval", SUITE, "--samples", "2", "--offline")
    assert result.code == 0, result.stderr
    seen = set()
    for request in fake.message_requests:
        body = json.dumps(request)
        own = [pid for pid, name in PERSONAS.items() if f"as the {name}." in body]
        if not own:
            continue  # the card call
        assert len(own) == 1, own
        seen.add(own[0])
        others = [s for pid, s in secrets.items() if pid != own[0]]
        assert not any(s in body for s in others)
    assert seen == set(PERSONAS)


def test_a_persona_repeating_another_is_flagged(panel_cli: Cli, fake: FakeAnthropic) -> None:
    """The Founder's paragraph copies the Skeptic's: that pair, and only it, is flagged."""
    same = (
        "The direct competitors are cheaper and the scenario where it breaks is any team at scale."
    )
    for name in ("Skeptic", "Founder"):
        fake.script(f"as the {name}.", *[Reply.verdict(40, "skip", same)] * 20)
    result = panel_cli("eval", SUITE, "--samples", "1", "--offline")
    assert result.code == 0, result.stderr
    assert "| Skeptic · Founder | 1 | 1 | – | repeats reasoning |" in result.stdout
    assert result.stdout.count("repeats reasoning") == 1


def test_max_cost_refuses_in_one_line_before_any_call(panel_cli: Cli, fake: FakeAnthropic) -> None:
    """An estimate over --max-cost is one line on stderr, exit 2, and nothing is sent."""
    result = panel_cli("eval", SUITE, "--offline", "--max-cost", "0.01")
    assert result.code == 2
    assert result.stderr.startswith("panel: error: --max-cost $0.01: the eval is estimated at $")
    assert len(result.stderr.strip().splitlines()) == 1
    assert fake.message_requests == [] and fake.uploads == []


def test_the_suite_loads_labels_and_outcomes() -> None:
    """`label` is taken as is, an `outcome` names its label, the reason is kept."""
    suite = load_suite(Path(SUITE))
    assert suite.name == "Test suite" and suite.labelled == 3
    ferrytale = next(t for t in suite.tools if t.name == "Ferrytale")
    assert (ferrytale.label, ferrytale.outcome) == ("skip", "archived")
    assert ferrytale.reason and "archived" in ferrytale.reason


def test_a_bad_suite_lists_every_problem(tmp_path: Path) -> None:
    """A wrong label, an outcome with no label and a row without sources: one error, three lines."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- {name: A, description: a tool, label: maybe}\n"
        "- {name: B, description: b tool, outcome: went sideways}\n"
        "- {name: C}\n"
    )
    with pytest.raises(InputError) as caught:
        load_suite(path)
    message = str(caught.value)
    assert "3 problems" in message and "label 'maybe'" in message
    assert "names no label" in message and "no source" in message


def test_the_shipped_suite_is_valid_and_labelled() -> None:
    """evals/suite.yaml: 20 to 40 tools, each with a URL, a description, a label and a reason."""
    suite = load_suite(Path(__file__).parent.parent / "evals" / "suite.yaml")
    assert 20 <= len(suite.tools) <= 40
    for t in suite.tools:
        assert t.url and t.description and t.label and t.reason, t.name
    assert {t.label for t in suite.tools} == {"ship", "skip"}
