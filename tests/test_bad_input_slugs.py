"""Names and slugs: C, C++ and C# apart, any name a safe key, two names never one tool silently."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel.errors import InputError
from panel.model.run import Run, ToolInfo
from panel.sources.documents import slugify
from panel.store.lookup import legacy_slug, same_name
from panel.store.sqlite import Store
from tests.runs import make_run, verdict

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def named_run(run_id: str, name: str, *, slug: str | None = None, given: bool = True) -> Run:
    run = make_run(run_id, [verdict("builder", 70)])
    tool = ToolInfo(name=name, slug=slug or slugify(name), name_given=given)
    return run.model_copy(update={"tool": tool})


@pytest.mark.parametrize(
    ("name", "slug"),
    [("C", "c"), ("C++", "c-plus-plus"), ("C#", "c-sharp"), ("F#", "f-sharp")],
)
def test_c_cplusplus_and_csharp_are_three_tools(name: str, slug: str) -> None:
    """Scenario: C, C++ and C# all slugged `c`; an attached + or # is now spelled out."""
    assert slugify(name) == slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme CLI", "acme-cli"),
        ("  Helix  ", "helix"),
        ("Node.js", "node-js"),
        ("#1 Tool", "1-tool"),
        ("a + b", "a-b"),
        ("../../etc/passwd", "etc-passwd"),
    ],
)
def test_plain_ascii_names_keep_their_slugs(name: str, slug: str) -> None:
    """Scenario: stored runs are keyed by slug, so plain ASCII names slug as they always did."""
    assert slugify(name) == slug == legacy_slug(name)


@pytest.mark.parametrize("name", ["日本語ツール", "🚀", "Ωμέγα"])
def test_names_without_ascii_letters_get_a_stable_hashed_slug(name: str) -> None:
    """Scenario: `日本語ツール` (no ASCII letter or digit) was refused; now `tool-` + 8 hex."""
    slug = slugify(name)
    assert re.fullmatch(r"tool-[0-9a-f]{8}", slug)
    assert slugify(f"  {name.upper()} ") == slug


def test_hashed_slug_is_pinned() -> None:
    """Scenario: the hashed slug is part of the stored key, so its value must never drift."""
    assert slugify("日本語ツール") == "tool-68467878"


def test_emoji_with_an_ascii_word_keeps_the_word() -> None:
    """Scenario: `🚀 Rocket` is accepted and keyed by its readable part."""
    assert slugify("🚀 Rocket") == "rocket"


@pytest.mark.parametrize("name", ["", "   ", "!!!", "..", "/", "-+-"])
def test_names_with_nothing_to_key_on_are_input_errors(name: str) -> None:
    """Scenario: punctuation-only names stay a one-line InputError."""
    with pytest.raises(InputError, match="has no letters or digits"):
        slugify(name)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=120))
def test_any_text_is_a_path_safe_slug_or_an_input_error(name: str) -> None:
    """Property: any text slugs to `^[a-z0-9][a-z0-9-]{0,63}$` (no `/`, no `..`) or InputError."""
    try:
        slug = slugify(name)
    except InputError as exc:
        assert "\n" not in str(exc).replace(repr(name), "")
        return
    assert SLUG.match(slug) and ".." not in slug and "/" not in slug


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(max_codepoint=127, exclude_characters="+#"), max_size=80))
def test_ascii_names_without_plus_or_sharp_keep_the_old_slug(name: str) -> None:
    """Property: no stored slug of an ASCII name without + or # changes under the new rule."""
    old = legacy_slug(name)
    if old:
        assert slugify(name) == old
    else:
        with pytest.raises(InputError):
            slugify(name)


# Two names, one slug -----------------------------------------------------------------------------


def test_explicit_name_whose_slug_belongs_to_another_tool_is_refused(tmp_path: Path) -> None:
    """Scenario: `--name "Node JS"` when `node-js` is Node.js: an InputError, nothing written."""
    store = Store(tmp_path)
    store.save_run(named_run("r1", "Node.js"))
    with pytest.raises(InputError) as info:
        store.save_run(named_run("r2", "Node JS"))
    assert str(info.value) == (
        "--name 'Node JS': its key 'node-js' is already the tool 'Node.js'; pass --name 'Node.js' "
        "to review that tool again, or a name that differs in more than punctuation for a new tool"
    )
    assert store.run_ids("node-js") == ["r1"]
    assert not (tmp_path / "node-js" / "r2.json").exists()


def test_same_name_in_another_case_or_spacing_is_the_same_tool(tmp_path: Path) -> None:
    """Scenario: reruns and `--name "acme  cli"` for `Acme CLI` keep adding runs to one tool."""
    store = Store(tmp_path)
    store.save_run(named_run("r1", "Acme CLI"))
    store.save_run(named_run("r2", "Acme CLI"))
    store.save_run(named_run("r3", "acme  cli"))
    assert store.run_ids("acme-cli") == ["r1", "r2", "r3"]


def test_card_named_runs_join_the_tool_of_their_slug(tmp_path: Path) -> None:
    """Scenario: without --name the card's name keys the run, so it is not refused after the fact."""
    store = Store(tmp_path)
    store.save_run(named_run("r1", "Zed", given=False))
    store.save_run(named_run("r2", "ZED editor", slug="zed", given=False))
    assert store.run_ids("zed") == ["r1", "r2"]


def test_old_slug_of_a_name_is_found_only_when_it_bears_that_name(tmp_path: Path) -> None:
    """Scenario: runs of C++ stored under the old `c` are still found; C's runs never are."""
    store = Store(tmp_path)
    store.save_run(named_run("r1", "C++", slug="c"))
    assert store.slug_of("C++") == "c"
    other = Store(tmp_path / "other")
    other.save_run(named_run("r2", "C"))
    assert other.slug_of("C++") is None and other.slug_of("C") == "c"


NAMES = st.text(alphabet="aAbB .+#-_", min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(first=NAMES, second=NAMES)
def test_a_slug_never_holds_two_names_given_by_the_user(first: str, second: str) -> None:
    """Property: storing `second` fails exactly when it shares `first`'s slug but not its name."""
    try:
        slug_a, slug_b = slugify(first), slugify(second)
    except InputError:
        return
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home))
        store.save_run(named_run("r1", first))
        clash = slug_a == slug_b and not same_name(first, [second])
        if clash:
            with pytest.raises(InputError, match="is already the tool"):
                store.save_run(named_run("r2", second))
        else:
            store.save_run(named_run("r2", second))
        names = store.names_of(slug_b)
        assert all(same_name(name, names[:1]) for name in names)
        store.close()


def test_cli_review_with_a_name_taken_by_another_tool_is_one_line(
    panel_cli: Callable[..., Any],
) -> None:
    """Scenario: `panel review --name "Node JS"` after Node.js: exit 2, one line, no second tool."""
    first = panel_cli("review", "--name", "Node.js", "--description", "Node.js runs JavaScript.")
    assert first.code == 0, first.stderr
    second = panel_cli("review", "--name", "Node JS", "--description", "Node JS runs JS.")
    assert second.code == 2
    assert second.stderr.startswith("panel: error: --name 'Node JS': its key 'node-js' is already")
    assert second.stderr.count("\n") == 1
    listed = panel_cli("list", "--json")
    assert [t["name"] for t in listed.json()] == ["Node.js"]
