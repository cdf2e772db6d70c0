"""Issue 20: a tool's name is one identity however it is typed (NFC or NFD, spacing), accented
letters keep their letters in the slug, tools stored under the older slugs stay findable, and a
pairs line whose names hold `VS` or spaces parses."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from panel.batch.backlog import parse
from panel.judge.review import Request, tool_names
from panel.model.run import Run, ToolInfo
from panel.pages.site import parse_pairs
from panel.sources.documents import slugify
from panel.sources.names import normalize_name
from panel.store.lookup import same_name
from panel.store.sqlite import Store
from tests.runs import make_run, verdict

NFC = unicodedata.normalize("NFC", "Café")
NFD = unicodedata.normalize("NFD", "Café")


def named_run(run_id: str, name: str, slug: str) -> Run:
    run = make_run(run_id, [verdict("builder", 70)])
    return run.model_copy(update={"tool": ToolInfo(name=name, slug=slug, name_given=True)})


def test_nfc_and_nfd_are_different_strings() -> None:
    """The premise: the two spellings differ byte for byte."""
    assert NFC != NFD and len(NFD) == len(NFC) + 1


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        (NFC, "cafe"),
        (NFD, "cafe"),
        ("Crème Brûlée", "creme-brulee"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("É", "e"),
    ],
)
def test_accented_letters_are_transliterated_in_slugs(name: str, slug: str) -> None:
    """Scenario: `Café` slugged `caf` (NFC) or `cafe` (NFD); both are now `cafe`."""
    assert slugify(name) == slug


@pytest.mark.parametrize(
    ("name", "slug"), [("日本語ツール", "tool-68467878"), ("🚀 Rocket", "rocket")]
)
def test_non_latin_names_keep_their_slugs(name: str, slug: str) -> None:
    """Only Latin letters are transliterated: other scripts keep their stable stored key."""
    assert slugify(name) == slug


@pytest.mark.parametrize(("raw", "name"), [(NFD, NFC), (f"  {NFD} Tool\t", f"{NFC} Tool")])
def test_names_are_stored_in_nfc(raw: str, name: str) -> None:
    """A name is kept in NFC, trimmed."""
    assert normalize_name(raw) == name


@pytest.mark.parametrize("other", [NFD, f" {NFD.upper()} ", f"{NFC}\u00a0"])
def test_nfc_nfd_case_and_spacing_are_the_same_name(other: str) -> None:
    """The store's name check sees one name, not two."""
    assert same_name(other, [NFC])
    assert same_name(f"{NFD}\u00a0 Tool", [f"{NFC} Tool"])


def test_a_given_name_is_stored_normalised() -> None:
    """`--name` typed as NFD is recorded as NFC, under the one slug."""
    name, slug = tool_names(Request(name=f" {NFD} Bar "), [])
    assert (str(name), slug) == (f"{NFC} Bar", "cafe-bar")


def test_nfd_then_nfc_is_one_tool(tmp_path: Path) -> None:
    """Scenario: reviewing `Café` typed both ways made two tools; now one, with both runs."""
    store = Store(tmp_path)
    for run_id, typed in (("r1", NFC), ("r2", NFD)):
        name, slug = tool_names(Request(name=typed), [])
        store.save_run(named_run(run_id, str(name), slug))
    assert store.run_ids("cafe") == ["r1", "r2"]
    assert [row.slug for row in store.tool_rows()] == ["cafe"]


@pytest.mark.parametrize("typed", [NFC, NFD, "café"])
def test_a_tool_stored_under_the_old_slug_is_still_found(tmp_path: Path, typed: str) -> None:
    """Runs of `Café` recorded as `caf` before transliteration are found by the name."""
    store = Store(tmp_path)
    store.save_run(named_run("r1", NFC, "caf"))
    assert store.slug_of(typed) == "caf"
    assert store.run_for(typed).run_id == "r1"


def test_a_hashed_slug_of_a_once_unkeyable_latin_name_is_still_found(tmp_path: Path) -> None:
    """`É` had no ASCII letter, so it was hashed (`tool-...`); its runs are found by the name."""
    import hashlib

    old = "tool-" + hashlib.sha256("é".encode()).hexdigest()[:8]
    store = Store(tmp_path)
    store.save_run(named_run("r1", "É", old))
    assert store.slug_of("É") == old


def test_a_backlog_name_is_normalised(tmp_path: Path) -> None:
    """A backlog row typed as NFD is the NFC tool `cafe`."""
    path = tmp_path / "tools.csv"
    path.write_text(f"name,description\n{NFD} Bar,A tool.\n", encoding="utf-8")
    row = parse(path).rows[0]
    assert (row.name, row.slug) == (f"{NFC} Bar", "cafe-bar")


@pytest.mark.parametrize(
    ("line", "pair"),
    [
        ("VS Code vs Acme", ("VS Code", "Acme")),
        ("Acme vs VS Code", ("Acme", "VS Code")),
        ("VS Code vs. Zed", ("VS Code", "Zed")),
        ("Acme VS Zed", ("Acme", "Zed")),
        ("VS Code, Zed", ("VS Code", "Zed")),
    ],
)
def test_a_pairs_line_with_vs_in_a_name_parses(tmp_path: Path, line: str, pair: tuple) -> None:
    """Scenario: `VS Code vs Acme` split at the leading `VS` and was refused."""
    path = tmp_path / "pairs.txt"
    path.write_text(line + "\n", encoding="utf-8")
    assert parse_pairs(path) == [pair]
