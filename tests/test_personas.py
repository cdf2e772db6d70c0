"""Personas are data: the built-in four, adding and removing a file, and readable refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from panel.errors import ConfigError
from panel.judge.personas import load_personas
from panel.resources import builtin_dir


def copy_builtin(tmp_path: Path) -> Path:
    target = tmp_path / "personas"
    shutil.copytree(builtin_dir("personas"), target)
    return target


def test_builtin_panel_is_the_four_personas_in_order() -> None:
    assert [p.id for p in load_personas()] == ["builder", "skeptic", "founder", "futurist"]
    assert all(len(p.lens) == 4 for p in load_personas())


def test_a_fifth_file_adds_a_fifth_reviewer(tmp_path: Path) -> None:
    d = copy_builtin(tmp_path)
    (d / "lawyer.yaml").write_text(
        "id: lawyer\nname: Lawyer\nversion: 1\norder: 5\nsummary: Reads the licence.\n"
        "lens: ['The licence terms']\nship_bar: Ship when the licence is safe.\n"
    )
    assert [p.id for p in load_personas(d)][-1] == "lawyer"


def test_removing_a_file_removes_the_reviewer(tmp_path: Path) -> None:
    d = copy_builtin(tmp_path)
    (d / "founder.yaml").unlink()
    assert [p.id for p in load_personas(d)] == ["builder", "skeptic", "futurist"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "id: x\nname: X\nversion: 1\nsummary: s\nlens: [a]\nship_bar: b\ncolour: red\n",
            "field 'colour'",
        ),
        ("id: x\nname: X\nversion: zero\nsummary: s\nlens: [a]\nship_bar: b\n", "field 'version'"),
        ("id: x\nname: X\nversion: 1\nsummary: s\nship_bar: b\n", "field 'lens'"),
        ("id: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_malformed_persona_names_file_and_field(
    tmp_path: Path, content: str, expected: str
) -> None:
    d = copy_builtin(tmp_path)
    (d / "broken.yaml").write_text(content)
    with pytest.raises(ConfigError) as info:
        load_personas(d)
    assert "broken.yaml" in str(info.value)
    assert expected in str(info.value)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    d = copy_builtin(tmp_path)
    shutil.copy(d / "builder.yaml", d / "builder2.yaml")
    with pytest.raises(ConfigError, match="'builder' is also in"):
        load_personas(d)
