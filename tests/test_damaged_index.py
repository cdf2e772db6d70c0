"""Issue 20: a damaged `panel.db` is refused in one line, and `panel db reindex` rebuilds it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from panel.store.damage import DamagedIndex
from panel.store.reindex import reindex
from panel.store.sqlite import DB_NAME, Store
from tests.conftest import Result
from tests.runs import make_run, verdict

Cli = Callable[..., Result]
PERSONAS = ("builder", "skeptic", "founder", "futurist")


def run(run_id: str, slug: str = "acme", created_at: str = "2026-11-25T13:00:00+00:00"):
    return make_run(run_id, [verdict(p, 80) for p in PERSONAS], slug=slug, created_at=created_at)


@pytest.fixture
def home(isolated_env: Path) -> Path:
    """A data home with two tools' runs and a vote, closed."""
    store = Store(isolated_env)
    store.save_run(run("r1"))
    store.save_run(run("r2", created_at="2026-11-25T14:00:00+00:00"))
    store.save_run(run("b1", slug="beta"))
    store.set_vote("acme", "ann", "ship")
    store.close()
    return isolated_env


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def truncated(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


DAMAGE = [
    pytest.param(empty, "it is empty", id="zero-length"),
    pytest.param(garbage, "not an SQLite database", id="random-bytes"),
    pytest.param(truncated, "truncated", id="truncated"),
]


def grow(home: Path) -> None:
    """More than one page of runs, so that cutting the file in half loses some."""
    store = Store(home)
    for i in range(60):
        store.save_run(run(f"g{i:02d}", slug=f"tool-{i:02d}"))
    store.close()


@pytest.mark.parametrize(("damage", "reason"), DAMAGE)
def test_opening_a_damaged_index_is_refused(home: Path, damage: Callable, reason: str) -> None:
    """Reading or writing: DamagedIndex names the file, what is wrong, and `panel db reindex`."""
    grow(home)
    damage(home / DB_NAME)
    before = (home / DB_NAME).read_bytes()
    for readonly in (True, False):
        with pytest.raises(DamagedIndex, match=reason) as info:
            Store(home, readonly=readonly)
        assert "`panel db reindex`" in str(info.value) and str(home / DB_NAME) in str(info.value)
    assert (home / DB_NAME).read_bytes() == before  # never re-created over the damage


def test_a_zero_length_index_of_a_new_home_is_not_damage(tmp_path: Path) -> None:
    """No run records yet: an empty file is a database about to be created, opened as new."""
    (tmp_path / "fresh").mkdir()
    empty(tmp_path / "fresh" / DB_NAME)
    store = Store(tmp_path / "fresh")
    assert store.all_run_ids() == []
    store.close()


@pytest.mark.parametrize(("damage", "reason"), DAMAGE)
def test_every_store_command_refuses_a_damaged_index(
    panel_cli: Cli, home: Path, tmp_path: Path, damage: Callable, reason: str
) -> None:
    """list, show, history, vote and review: exit 2, one line, nothing re-created."""
    grow(home)
    damage(home / DB_NAME)
    source = tmp_path / "acme.md"
    source.write_text("# Acme\n\nAcme is a tool.\n")
    for args in (
        ("list",),
        ("show", "acme"),
        ("history", "acme"),
        ("vote", "acme", "ship", "--voter", "ann"),
        ("review", str(source)),
    ):
        result = panel_cli(*args)
        assert result.code == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0] and "panel db reindex" in lines[0], args
    assert len(list(home.glob("*/*.json"))) == 63  # no run was added on top of the damage


@pytest.mark.parametrize(("damage", "reason"), DAMAGE)
def test_reindex_rebuilds_the_index_and_keeps_the_damaged_file(
    panel_cli: Cli, home: Path, damage: Callable, reason: str
) -> None:
    """Every record is findable again; the damaged file is renamed aside, byte for byte."""
    damage(home / DB_NAME)
    before = (home / DB_NAME).read_bytes()
    result = panel_cli("db", "reindex")
    assert result.code == 0, result.stderr
    assert "3 run(s) indexed" in result.stdout
    kept = list(home.glob(f"{DB_NAME}.damaged-*"))
    assert [p.read_bytes() for p in kept if not p.name.endswith(("-wal", "-shm"))] == [before]
    listed = panel_cli("list", "--json")
    assert listed.code == 0, listed.stderr
    assert sorted(t["slug"] for t in listed.json()) == ["acme", "beta"]
    assert panel_cli("history", "acme", "--json").json()["runs"][-1]["run_id"] == "r2"


def test_reindex_salvages_the_votes_a_damaged_index_still_holds(home: Path) -> None:
    """A file whose runs table is unreadable still gives back its readable tables."""
    store = Store(home)
    root = store.db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
    page = store.db.execute("PRAGMA page_size").fetchone()[0]
    store.close()
    with (home / DB_NAME).open("r+b") as fh:  # the runs table's page, overwritten
        fh.seek((root - 1) * page)
        fh.write(b"\xff" * page)
    done = reindex(home)
    assert done.kept_aside is not None and done.salvaged.get("votes") == 1
    store = Store(home)
    assert store.votes("acme").ship == 1 and store.all_run_ids() == ["b1", "r1", "r2"]
    store.close()


def test_reindex_of_a_whole_index_adds_only_the_missing_records(home: Path) -> None:
    """A record on disk that the index lacks is indexed; the rest (and the votes) stay."""
    store = Store(home)
    store.db.execute("DELETE FROM runs WHERE run_id = 'b1'")
    store.close()
    done = reindex(home)
    assert (done.indexed, done.already, done.kept_aside) == (1, 2, None)
    store = Store(home)
    assert sorted(store.all_run_ids()) == ["b1", "r1", "r2"] and store.votes("acme").ship == 1
    store.close()


def test_reindex_names_a_record_that_is_not_a_run(panel_cli: Cli, home: Path) -> None:
    """A broken record is left out with a warning naming it; the others are indexed."""
    empty(home / DB_NAME)
    (home / "acme" / "r1.json").write_text("{ not json")
    result = panel_cli("db", "reindex")
    assert result.code == 0, result.stderr
    assert "acme/r1.json is not a run record" in result.stderr
    assert "2 run(s) indexed" in result.stdout and "1 skipped" in result.stdout


def test_reindex_refuses_a_shared_database(panel_cli: Cli) -> None:
    """On PostgreSQL the records are the database: there is no index to rebuild."""
    result = panel_cli("db", "reindex", env={"PANEL_DATABASE_URL": "postgresql://u@127.0.0.1/x"})
    assert result.code == 2 and "no index to rebuild" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
