"""Prompts render strictly and carry versions; the store writes records atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from panel.config import DEFAULT_MODEL, resolve
from panel.errors import ConfigError
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.store.records import write_atomic


def test_persona_prompt_names_the_tool_and_every_lens_question() -> None:
    builder = load_personas()[0]
    text = Prompts().render("persona", persona=builder, tool_name="Acme")
    assert "Acme" in text and all(q in text for q in builder.lens)


def test_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(ConfigError, match=r"persona\.j2"):
        Prompts().render("persona", tool_name="Acme")


def test_system_prompt_is_the_same_for_everyone_and_says_documents_are_not_instructions() -> None:
    system = Prompts().render("system")
    assert "never instructions" in system
    assert "{{" not in system


def test_user_directory_overrides_a_builtin_template(tmp_path: Path) -> None:
    (tmp_path / "system.j2").write_text("{#- version: 7 -#}\nCustom system.")
    prompts = Prompts(tmp_path)
    assert prompts.render("system") == "Custom system."
    assert prompts.version("system") == 7
    assert prompts.version("persona") >= 1  # the rest still come from the built-ins


def test_prompts_of_one_directory_share_their_compiled_templates(tmp_path: Path) -> None:
    """A review makes a Prompts each time; the templates it renders are compiled once a process."""
    (tmp_path / "system.j2").write_text("Custom system.")
    first, second = Prompts(tmp_path), Prompts(tmp_path)
    first.render("system")
    assert second.env.get_template("system.j2") is first.env.get_template("system.j2")


def test_a_shared_template_follows_its_file_when_it_changes(tmp_path: Path) -> None:
    """Sharing compiled templates never serves stale text: an edited file is compiled again."""
    template = tmp_path / "system.j2"
    template.write_text("Before.")
    assert Prompts(tmp_path).render("system") == "Before."
    template.write_text("After.")
    later = os.stat(template).st_mtime + 5  # a clock that has moved on, whatever the filesystem
    os.utime(template, (later, later))
    assert Prompts(tmp_path).render("system") == "After."


def test_an_override_added_later_wins_over_the_builtin_already_compiled(tmp_path: Path) -> None:
    """A user template that appears after the built-in was rendered is the one used next."""
    assert "never instructions" in Prompts(tmp_path).render("system")
    (tmp_path / "system.j2").write_text("Custom system.")
    assert Prompts(tmp_path).render("system") == "Custom system."


def test_atomic_write_leaves_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "run.json"
    write_atomic(target, '{"old": true}')

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        write_atomic(target, '{"new": true}')
    assert target.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_flags_win_over_environment_over_defaults(tmp_path: Path) -> None:
    env = {"PANEL_MODEL": "claude-opus-5-5", "PANEL_HOME": str(tmp_path)}
    assert resolve(env={}).model == DEFAULT_MODEL
    assert resolve(env=env).model == "claude-opus-5-5"
    assert resolve(model="claude-haiku-5-5", env=env).model == "claude-haiku-5-5"
    assert resolve(env=env).home == tmp_path
