"""`panel vote --voter`: one voter however the name is spelled (issue 19)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from panel.model.votes import fold_voter
from panel.store.sqlite import Store
from tests.conftest import Result
from tests.serve_helpers import seed

# Ten spellings of one name: before folding they gave eight votes.
SPELLINGS = [
    "Alice",
    "alice",
    "ALICE",
    "ａｌｉｃｅ",  # full-width
    "Ａｌｉｃｅ",
    "al\u200bice",  # zero-width space
    "alice\u200d",  # zero-width joiner
    "\ufeffalice",  # byte-order mark
    "  Alice ",
    "ali\u00adce",  # soft hyphen
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_folds_to_one_key(spelling: str) -> None:
    """Width, case and invisible characters do not make another voter."""
    assert fold_voter(spelling) == "alice"


@pytest.mark.parametrize(("a", "b"), [("alice", "alicia"), ("bo", "b o"), ("ana", "anä")])
def test_different_names_stay_different(a: str, b: str) -> None:
    """Folding joins spellings, not names."""
    assert fold_voter(a) != fold_voter(b)


def test_ten_spellings_are_one_vote(panel_cli: Callable[..., Result], isolated_env: Path) -> None:
    """The CLI records one voter for all ten spellings: the last vote stands."""
    store = Store(isolated_env)
    seed(store)
    for n, spelling in enumerate(SPELLINGS):
        result = panel_cli(
            "vote", "zed", "skip" if n == len(SPELLINGS) - 1 else "ship", "--voter", spelling
        )
        assert result.code == 0, result.stderr
    assert store.votes("zed").model_dump() == {"ship": 0, "skip": 1}
    store.close()


def test_a_reader_id_is_not_an_operator_name(
    panel_cli: Callable[..., Result], isolated_env: Path
) -> None:
    """`--voter reader:...` is refused in one line: those ids are the live site's readers."""
    store = Store(isolated_env)
    seed(store)
    result = panel_cli("vote", "zed", "ship", "--voter", "Reader:abc")
    assert result.code == 2 and "live site's readers" in result.stderr
    assert store.votes("zed").total == 0
    store.close()


LEGACY = [  # a 0.1.0 store's rows: names were stored as typed
    ("zed", "Alice", "ship", "2026-11-20T10:00:00+00:00"),
    ("zed", "ａｌｉｃｅ", "skip", "2026-11-21T10:00:00+00:00"),
    ("zed", "Bob", "ship", "2026-11-20T10:00:00+00:00"),
    ("zed", "reader:r1", "skip", "2026-11-20T10:00:00+00:00"),
    ("kestrel", "ALICE", "ship", "2026-11-20T10:00:00+00:00"),
]


def legacy_store(make_store: Callable[..., Store]) -> Store:
    store = make_store()
    with store.transaction() as db:
        db.executemany("INSERT INTO votes VALUES (?, ?, ?, ?)", LEGACY)
    return store


def test_unfolded_spellings_of_an_older_store_are_one_voter(
    make_store: Callable[..., Store],
) -> None:
    """`Alice` and `ａｌｉｃｅ` stored by 0.1.0 count once, the later vote standing; readers and other
    operators are untouched; the site's catalog tallies the same."""
    from panel.store.catalog import _votes

    store = legacy_store(make_store)
    assert store.votes("zed").model_dump() == {"ship": 1, "skip": 2}  # Bob; alice (later), r1
    assert _votes(store)["zed"] == store.votes("zed")
    assert _votes(store)["kestrel"].model_dump() == {"ship": 1, "skip": 0}


def test_voting_again_replaces_every_older_spelling(make_store: Callable[..., Store]) -> None:
    """A current panel writes the folded name and drops the old spellings' rows with it."""
    store = legacy_store(make_store)
    store.set_vote("zed", "alice", "ship")
    voters = {r["voter"] for r in store.db.execute("SELECT voter FROM votes WHERE slug = 'zed'")}
    assert voters == {"alice", "Bob", "reader:r1"}
    assert store.votes("zed").model_dump() == {"ship": 2, "skip": 1}
    assert store.clear_vote("kestrel", "alice") and store.votes("kestrel").total == 0
