"""Broken persona files, prompt templates and the directories that hold them: one-line errors."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from panel.config import SettingError, resolve
from panel.errors import ConfigError
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.resources import builtin_dir


@pytest.fixture
def personas(tmp_path: Path) -> Path:
    """A copy of the built-in personas to spoil."""
    target = tmp_path / "personas"
    shutil.copytree(builtin_dir("personas"), target)
    return target


def config_error(call: Callable[[], Any]) -> str:
    with pytest.raises(ConfigError) as info:
        call()
    assert "\n" not in str(info.value)
    return str(info.value)


def test_non_utf8_persona_file_is_one_line_naming_it(personas: Path) -> None:
    """Scenario: a persona file in Latin-1 is 'not UTF-8 text', not a UnicodeDecodeError."""
    path = personas / "lawyer.yaml"
    path.write_bytes("id: lawyer\nname: Jos\xe9\n".encode("latin-1"))
    message = config_error(lambda: load_personas(personas))
    assert message == f"persona file {path}: not UTF-8 text (byte 20)"


def test_directory_named_like_a_persona_file_is_refused(personas: Path) -> None:
    """Scenario: a directory `x.yaml` in the personas directory is an error, not IsADirectoryError."""
    (personas / "x.yaml").mkdir()
    message = config_error(lambda: load_personas(personas))
    assert message.startswith(f"persona file {personas / 'x.yaml'}: not a file")


def test_persona_with_a_python_tag_says_why_in_one_line(personas: Path) -> None:
    """Scenario: a `!!python/object` persona names the file, the line and the tag."""
    (personas / "evil.yaml").write_text("id: !!python/object:os.system {}\n")
    message = config_error(lambda: load_personas(personas))
    assert message.startswith(f"persona file {personas / 'evil.yaml'}: line 1 is not valid YAML")
    assert "could not determine a constructor" in message


def test_personas_option_pointing_at_a_file_says_so(personas: Path) -> None:
    """Scenario: `--personas builder.yaml` (a file) is not reported as 'does not exist'."""
    path = personas / "builder.yaml"
    assert config_error(lambda: load_personas(path)).startswith(
        f"personas directory {path} is a file"
    )


def test_template_that_raises_while_rendering_names_file_and_line(tmp_path: Path) -> None:
    """Scenario: `{{ 1/0 }}` in a user template is a ConfigError, not a ZeroDivisionError."""
    (tmp_path / "system.j2").write_text("Line one.\n{{ 1/0 }}\n")
    message = config_error(lambda: Prompts(tmp_path).render("system"))
    assert message == (
        f"prompt template {tmp_path / 'system.j2'}:2: ZeroDivisionError: division by zero"
    )


def test_template_with_an_unknown_filter_names_file_and_line(tmp_path: Path) -> None:
    """Scenario: an undefined filter is one line with the template and its line."""
    (tmp_path / "system.j2").write_text("{{ 'x' | shout }}\n")
    message = config_error(lambda: Prompts(tmp_path).render("system"))
    assert message == f"prompt template {tmp_path / 'system.j2'}:1: No filter named 'shout'."


@pytest.mark.parametrize("use", ["render", "version"])
def test_non_utf8_template_is_one_line_naming_it(tmp_path: Path, use: str) -> None:
    """Scenario: a Latin-1 template fails rendering and its version header the same way."""
    (tmp_path / "system.j2").write_bytes("Caf\xe9 {{ x }}\n".encode("latin-1"))
    prompts = Prompts(tmp_path)
    message = config_error(lambda: getattr(prompts, use)("system"))
    assert message == f"prompt template {tmp_path / 'system.j2'}: not UTF-8 text (byte 3)"


def test_prompts_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    """Scenario: a missing prompts directory was silently ignored (the built-ins were used)."""
    missing = tmp_path / "nonexistent"
    assert config_error(lambda: Prompts(missing)) == f"prompts directory {missing} does not exist"


@pytest.mark.parametrize("variable", ["PANEL_PROMPTS", "PANEL_PERSONAS"])
def test_environment_directory_that_is_missing_names_the_variable(
    tmp_path: Path, variable: str
) -> None:
    """Scenario: `PANEL_PROMPTS=/nonexistent` (or PANEL_PERSONAS) names the variable and path."""
    missing = tmp_path / "nonexistent"
    with pytest.raises(SettingError, match=f"^{variable}={missing}: no such directory$"):
        resolve(env={variable: str(missing)})


def test_panel_personas_pointing_at_a_file_is_one_cli_line(
    panel_cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Scenario: `PANEL_PERSONAS=<a file> panel personas` prints one line and exits 2."""
    path = tmp_path / "builder.yaml"
    path.write_text("id: builder\n")
    result = panel_cli("personas", env={"PANEL_PERSONAS": str(path)})
    assert (result.code, result.stderr) == (
        2,
        f"panel: error: PANEL_PERSONAS={path}: not a directory\n",
    )


def test_panel_prompts_missing_is_one_cli_line(
    panel_cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Scenario: `PANEL_PROMPTS=/nonexistent panel review --dry-run` stops before any work."""
    result = panel_cli(
        "review", "--dry-run", "--description", "Acme is a tool.",
        env={"PANEL_PROMPTS": "/nonexistent"},
    )  # fmt: skip
    assert (result.code, result.stderr) == (
        2,
        "panel: error: PANEL_PROMPTS=/nonexistent: no such directory\n",
    )
