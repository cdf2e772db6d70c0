"""Backlog parsing and validation: pure, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from panel.batch import backlog
from panel.errors import InputError

CSV = """name,url,description,files
Acme,https://acme.example/,,acme.md;shared.md
Beta,,A pasted description of Beta.,
"""
JSONL = """{"name": "Acme", "url": "https://acme.example/", "files": "acme.md;shared.md"}

{"name": "Beta", "description": "A pasted description of Beta."}
"""
YAML = """- name: Acme
  url: https://acme.example/
  files: [acme.md, shared.md]
- name: Beta
  description: A pasted description of Beta.
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "acme.md").write_text("# Acme\n")
    (tmp_path / "shared.md").write_text("# Shared\n")
    return tmp_path


@pytest.mark.parametrize(("suffix", "text"), [(".csv", CSV), (".jsonl", JSONL), (".yaml", YAML)])
def test_every_format_gives_the_same_rows(folder: Path, suffix: str, text: str) -> None:
    """CSV, JSON Lines and YAML rows with the same fields parse to the same BacklogRows."""
    path = folder / f"tools{suffix}"
    path.write_text(text)
    rows = backlog.load(path).rows
    assert [(r.name, r.slug, r.url, r.description) for r in rows] == [
        ("Acme", "acme", "https://acme.example/", None),
        ("Beta", "beta", None, "A pasted description of Beta."),
    ]
    assert rows[0].files == (str(folder / "acme.md"), str(folder / "shared.md"))
    assert rows[0].sources == [*rows[0].files, "https://acme.example/"]


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        (
            ".csv",
            "name,url,description,files\n,https://x.example/,,\nNo source,,,\nAcme,,,missing.md\n",
            [(2, "missing name"), (3, "no source"), (4, "file 'missing.md': no such file")],
        ),
        (
            ".jsonl",
            '{"name": "A", "description": "x"}\n{not json\n{"name": "a", "description": "y"}\n'
            '{"name": "C", "url": "ftp://c.example/"}\n["a list"]\n'
            '{"name": "D", "description": "d", "x": 1}\n',
            [
                (2, "not valid JSON"),
                (3, "duplicate name 'a' (first on line 1)"),
                (4, "is not an http(s) URL"),
                (5, "expected a mapping"),
                (6, "unknown field(s): x"),
            ],
        ),
        (
            ".yaml",
            "- name: Good\n  description: fine\n- name: Bad\n  files: [tool.exe]\n"
            "- name: '!!!'\n  description: x\n",
            [(3, "unsupported type '.exe'"), (5, "has no letters or digits")],
        ),
        (".csv", "title,url\nAcme,https://a.example/\n", [(1, "needs a 'name' column")]),
        (".yaml", "name: not a list\n", [(1, "expected a list of tools")]),
    ],
)
def test_invalid_rows_are_all_listed(
    folder: Path, suffix: str, text: str, expected: list[tuple[int, str]]
) -> None:
    """Every invalid row is reported with its file and line, in one go."""
    (folder / "tool.exe").write_bytes(b"MZ")
    path = folder / f"tools{suffix}"
    path.write_text(text)
    errors = backlog.parse(path).errors
    assert [e.line for e in errors] == [line for line, _ in expected]
    for error, (_, reason) in zip(errors, expected, strict=True):
        assert reason in error.reason and error.file == str(path)


def test_load_raises_one_error_listing_every_invalid_row(folder: Path) -> None:
    """Without --skip-invalid the whole list comes back as one InputError (exit 2)."""
    path = folder / "tools.jsonl"
    path.write_text(json.dumps({"name": "A"}) + "\n" + json.dumps({"description": "x"}) + "\n")
    with pytest.raises(InputError) as info:
        backlog.load(path)
    assert info.value.exit_code == 2
    assert f"{path}:1: no source" in str(info.value) and f"{path}:2: missing name" in str(
        info.value
    )


def test_skip_invalid_keeps_the_valid_rows(folder: Path) -> None:
    path = folder / "tools.jsonl"
    path.write_text(
        json.dumps({"name": "A"}) + "\n" + json.dumps({"name": "B", "description": "b"}) + "\n"
    )
    loaded = backlog.load(path, skip_invalid=True)
    assert [r.name for r in loaded.rows] == ["B"] and len(loaded.errors) == 1


@pytest.mark.parametrize("name", ["tools.txt", "tools.json"])
def test_unknown_extension_is_an_error(folder: Path, name: str) -> None:
    (folder / name).write_text("")
    with pytest.raises(InputError, match="unsupported backlog format"):
        backlog.load(folder / name)


def test_missing_backlog_file(folder: Path) -> None:
    with pytest.raises(InputError, match="no such backlog file"):
        backlog.load(folder / "nope.csv")


def test_batches_split_by_count_and_size_keeping_a_tool_together() -> None:
    """At most N requests or B bytes a batch; a tool's five requests never straddle two."""
    from panel.batch.requests import chunks, custom_id

    requests = [
        {"custom_id": custom_id(f"run{t}", p), "params": {"x": "y" * 100}}
        for t in range(7)
        for p in ("builder", "skeptic", "founder", "futurist", "_card")
    ]
    by_count = chunks(requests, max_requests=12)
    assert [len(c) for c in by_count] == [10, 10, 10, 5]
    by_size = chunks(requests, max_bytes=1500)
    assert all(len(c) == 5 for c in by_size)
    assert [r for c in by_count for r in c] == requests


def test_a_persona_called_card_is_not_the_card() -> None:
    """Persona ids may be `card`; the card request's key is one no persona id can be."""
    from panel.batch.requests import CARD, chunks, custom_id

    ids = {custom_id("20261125T130501-3f9a2c", p) for p in ("card", CARD)}
    assert len(ids) == 2
    requests = [{"custom_id": custom_id("run1", p), "params": {}} for p in ("my_lens", CARD)]
    assert [len(c) for c in chunks(requests, max_requests=1)] == [2]  # one tool stays whole


@pytest.mark.parametrize("persona", ["builder", "a.b/c", "x" * 80])
def test_custom_ids_are_valid(persona: str) -> None:
    import re

    from panel.batch.requests import custom_id

    cid = custom_id("20261125T130501-3f9a2c", persona)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cid)
