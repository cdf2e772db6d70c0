"""Hostile and surprising backlogs: one-line errors naming the file and line, names as written."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel.batch import backlog
from panel.errors import InputError

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Hypothesis reuses the test's tmp_path across examples; every example writes its own file.
PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(path: Path) -> str:
    """The InputError `backlog.load` raises for `path`, checked to be a single line."""
    with pytest.raises(InputError) as info:
        backlog.load(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_csv_cell_over_the_csv_field_limit_is_one_line_with_its_line(tmp_path: Path) -> None:
    """Scenario: a CSV cell over 131,072 characters (csv.Error) names the file and line."""
    path = write(tmp_path, "tools.csv", f"name,description\nA,a\nB,{'x' * 140_000}\n")
    message = one_line_error(path)
    assert message.startswith(f"{path}:3: a cell is over 131,072 characters")


def test_json_nested_100000_deep_is_an_invalid_row_not_a_recursion_error(tmp_path: Path) -> None:
    """Scenario: a JSON Lines row nested 100,000 deep is 'nested too deeply' on its line."""
    path = write(tmp_path, "tools.jsonl", "[" * 100_000 + "]" * 100_000 + "\n")
    assert one_line_error(path) == (
        f"{path}:1: not valid JSON: nested too deeply; fix it or pass --skip-invalid"
    )


def test_yaml_python_object_tag_is_refused_in_one_line(tmp_path: Path) -> None:
    """Scenario: a `!!python/object` tag is never constructed and its error is one line."""
    path = write(tmp_path, "tools.yaml", "- !!python/object:os.system {name: x}\n")
    message = one_line_error(path)
    assert f"{path}:1: not valid YAML: could not determine a constructor" in message


def test_yaml_key_that_is_a_list_is_an_invalid_row(tmp_path: Path) -> None:
    """Scenario: a YAML mapping key that is a list ('unhashable key') is one line with its line."""
    path = write(tmp_path, "tools.yaml", "- name: Ok\n  description: d\n- ? [a, b]\n  : 1\n")
    message = one_line_error(path)
    assert message.startswith(f"{path}:3: not valid YAML:") and "unhashable key" in message


def test_yaml_nested_5000_deep_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """Scenario: YAML nested 5,000 deep (a RecursionError in PyYAML) names the file."""
    path = write(tmp_path, "tools.yaml", "- name: x\n  description: " + "[" * 5000 + "]" * 5000)
    assert one_line_error(path) == f"{path}: not valid YAML: nested too deeply"


def test_yaml_that_does_not_parse_is_one_line_without_pyyaml_carets(tmp_path: Path) -> None:
    """Scenario: a YAML syntax error is one line (PyYAML's own text spans four)."""
    path = write(tmp_path, "tools.yaml", "- name: [unclosed\n")
    assert one_line_error(path).startswith(f"{path}:2: not valid YAML: while parsing")


@pytest.mark.parametrize("written", ["no", "yes", "on", "0x1F", "0o17", "1.0", "1e3", "2024-01-01"])
def test_yaml_names_are_the_strings_as_written(tmp_path: Path, written: str) -> None:
    """Scenario: `name: no` is the tool "no" and `name: 0x1F` is "0x1F", not False and 31."""
    path = write(tmp_path, "tools.yaml", f"- name: {written}\n  description: {written}\n")
    row = backlog.load(path).rows[0]
    assert (row.name, row.description) == (written, written)


def test_yaml_null_name_is_still_a_missing_name(tmp_path: Path) -> None:
    """Scenario: `name: ~` stays YAML's null, so the row is 'missing name', not the tool "~"."""
    path = write(tmp_path, "tools.yaml", "- name: ~\n  description: d\n")
    assert backlog.parse(path).errors[0].reason == "missing name"


def test_json_string_with_a_raw_line_separator_is_one_row(tmp_path: Path) -> None:
    """Regression: str.splitlines broke a row at an unescaped U+2028, which JSON allows."""
    text = json.dumps({"name": "A\u2028B", "description": "d"}, ensure_ascii=False) + "\n"
    rows = backlog.load(write(tmp_path, "tools.jsonl", text)).rows
    assert [r.name for r in rows] == ["A\u2028B"]


def test_a_single_invalid_row_is_one_line(tmp_path: Path) -> None:
    """Scenario: one bad row is one line: file:line: reason, and how to go on without it."""
    path = write(tmp_path, "tools.jsonl", '{"name": "A"}\n')
    assert one_line_error(path) == (
        f"{path}:1: no source: give a url, a description or files; fix it or pass --skip-invalid"
    )


def test_cli_prints_a_python_object_tag_as_one_line_and_exits_2(
    panel_cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Scenario: `panel batch` on a `!!python/object` backlog: one stderr line, exit 2."""
    path = write(tmp_path, "tools.yaml", "- !!python/object/apply:os.system ['true']\n")
    result = panel_cli("batch", str(path))
    assert result.code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"panel: error: {path}:1: not valid YAML")


# Properties -------------------------------------------------------------------------------------


def dump(fmt: str, name: str) -> str:
    if fmt == "jsonl":
        return json.dumps({"name": name, "description": "d"}, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump([{"name": name, "description": "d"}])
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["name", "description"], [name, "d"]])
    return buffer.getvalue()


@PROPERTY
@given(name=st.text(max_size=80))
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "yaml"])
def test_any_name_is_a_row_with_that_name_or_a_reason(tmp_path: Path, fmt: str, name: str) -> None:
    """Property: any name gives one row named as written (in NFC, stripped) or one row error."""
    path = tmp_path / f"tools.{fmt}"
    path.write_bytes(dump(fmt, name).encode("utf-8"))
    try:
        parsed = backlog.parse(path)
    except InputError as exc:  # a file the format's reader refuses as a whole
        assert "\n" not in str(exc)
        return
    if parsed.rows:
        assert [r.name for r in parsed.rows] == [unicodedata.normalize("NFC", name).strip()]
        assert SLUG.match(parsed.rows[0].slug)
    else:
        assert len(parsed.errors) == 1 and "\n" not in parsed.errors[0].reason


@PROPERTY
@given(token=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,11}", fullmatch=True))
def test_plain_yaml_scalars_keep_their_text(tmp_path: Path, token: str) -> None:
    """Property: an unquoted YAML name is the text as written, whatever YAML 1.1 would make it."""
    if token.lower() == "null":
        return  # YAML's null stays null: a missing name
    path = tmp_path / "tools.yaml"
    path.write_text(f"- name: {token}\n  description: {token}\n", encoding="utf-8")
    rows = backlog.parse(path).rows
    assert [(r.name, r.description) for r in rows] == [(token, token)]
