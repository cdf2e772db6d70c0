"""The demo's fake writes plausible cards and scores that follow the documents: each tool gets its
own scores (derived from its documents' content, so the demo's comparison is not a tie), the same
documents always get the same ones, taglines are whole phrases under 15 words, and the pricing model
is read from the pricing sentences."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from panel.demo.fake_api import pricing_model, tagline

SAMPLES = files("panel.demo") / "samples"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Tern is a command-line tool that turns the TODO and FIXME comments in a repository "
            "into a tracked backlog, kept in sync with GitHub Issues.",
            "A command-line tool that turns the TODO and FIXME comments into a tracked backlog",
        ),
        (
            "Kestrel is a hosted service that records every failing test in CI and groups the "
            "failures by their likely cause, so flaky tests stop hiding real regressions.",
            "A hosted service that records every failing test and groups the failures",
        ),
        (
            "Zed is a fast collaborative editor written in Rust.",
            "A fast collaborative editor written in Rust",
        ),
        ("Sift sorts mail with a small model.", "Sift sorts mail with a small model"),
    ],
)
def test_tagline_is_a_whole_phrase(sentence, expected):
    """The tagline drops the subject, asides and trailing clauses; it never ends mid-phrase."""
    assert tagline(sentence) == expected
    assert len(expected.split()) < 15


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("Tern is free and open source. Tern Team costs $8 per seat per month.", "freemium"),
        ("The Business plan costs $400 per month.", "paid"),
        ("Pay per token, billed monthly.", "usage-based"),
        ("Released under the Apache 2.0 license as open source.", "open source"),
        ("Free for everyone.", "free"),
        ("Nothing about money here.", "unknown"),
    ],
)
def test_pricing_model_follows_the_text(text, model):
    """A paid product is never tagged free: the model is read from what the pricing says."""
    assert pricing_model(text) == model


def scores(result) -> list[int]:
    return [v["score"] for v in result.json()["verdicts"]]


@pytest.mark.e2e
def test_each_tool_gets_its_own_scores(panel_cli, tmp_path: Path):
    """Two tools reviewed without --name get different scores; the same documents the same ones
    (regression: every unnamed tool got the same four scores, so the demo compared a tie)."""
    paths = []
    for name in ("tern.md", "kestrel.md"):
        path = tmp_path / name
        path.write_bytes((SAMPLES / name).read_bytes())
        paths.append(str(path))
    tern, kestrel = (panel_cli("review", p, "--json") for p in paths)
    assert tern.code == 0 and kestrel.code == 0, tern.stderr + kestrel.stderr
    assert scores(tern) != scores(kestrel)
    again = panel_cli("review", paths[0], "--json")
    assert scores(again) == scores(tern)


@pytest.mark.e2e
def test_demo_cards_are_plausible(panel_cli, tmp_path: Path):
    """The sample's card: its name once, a whole-phrase tagline, freemium (it has a paid plan)."""
    path = tmp_path / "tern.md"
    path.write_bytes((SAMPLES / "tern.md").read_bytes())
    card = panel_cli("review", str(path), "--json").json()["tool"]["card"]
    assert card["name"] == "Tern"
    assert card["tagline"].endswith("into a tracked backlog") and len(card["tagline"].split()) < 15
    assert card["pricing_model"] == "freemium"
    assert card["best_for"].startswith("Small teams")


@pytest.mark.e2e
def test_a_heading_line_is_not_glued_to_the_first_sentence(panel_cli, tmp_path: Path):
    """A page whose name stands alone above "Beacon is ..." does not read "Beacon Beacon is"."""
    path = tmp_path / "beacon.txt"
    path.write_text(
        "Beacon\nBeacon is an uptime monitor that pages the right person when a check fails.\n"
        "Beacon costs $12 per month for fifty checks, with a free plan for three checks.\n"
    )
    card = panel_cli("review", str(path), "--json").json()["tool"]["card"]
    assert "Beacon Beacon" not in card["description"]
    assert card["tagline"] == "An uptime monitor that pages the right person when a check fails"
    assert card["pricing_model"] == "freemium"
