"""The methodology page is generated from the persona files and prompt versions."""

from __future__ import annotations

import shutil

from panel.config import DEFAULT_QUORUM, DEFAULT_SHIP_THRESHOLD
from panel.judge.personas import load_personas
from panel.pages import methodology_html, methodology_markdown
from panel.resources import builtin_dir

NEW_PERSONA = """\
id: regulator
name: Regulator
version: 1
order: 9
summary: A compliance officer who signs off on what the company may use.
lens:
  - "Where does the data go?"
  - "Who is liable when it fails?"
  - "What does the contract promise?"
  - "Can we audit it?"
ship_bar: Ship when the data stays where the contract says it does.
"""


def test_each_persona_with_lens_and_bar(personas, parse):
    """Every reviewer appears with its summary, its four lens questions and its ship bar."""
    text = parse(methodology_html(personas, {"system": 1})).text
    for p in personas:
        assert p.name in text and p.summary in text and p.ship_bar in text
        assert len(p.lens) == 4 and all(q in text for q in p.lens)


def test_decision_rules_from_config(personas, parse):
    """The rules state majority, the tie-break threshold and the quorum from the config."""
    text = parse(methodology_html(personas, {})).text
    assert "majority" in text
    assert f"at least {DEFAULT_SHIP_THRESHOLD:g}" in text
    assert f"fewer than {DEFAULT_QUORUM} successful verdicts" in text.lower()


def test_prompt_versions_listed(personas, parse):
    """Each prompt template appears with its version."""
    text = parse(methodology_html(personas, {"persona": 3, "system": 2})).text
    assert "persona 3" in text and "system 2" in text


def test_added_persona_file_appears(tmp_path, parse):
    """A persona file added to the personas directory appears with no other change."""
    shutil.copytree(builtin_dir("personas"), tmp_path / "personas")
    (tmp_path / "personas" / "regulator.yaml").write_text(NEW_PERSONA, encoding="utf-8")
    personas = load_personas(tmp_path / "personas")
    text = parse(methodology_html(personas, {})).text
    assert "Regulator" in text and "Who is liable when it fails?" in text
    assert "panel of 5 reviewers" in text
    assert "Regulator" in methodology_markdown(personas, {})
