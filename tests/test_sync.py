"""`panel sync`: a data home's runs, votes, file registry and fetch records into the shared store
(a throwaway PostgreSQL cluster) and back, copying only what the other side lacks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from panel.judge.pairwise import ask_of, decide_pair, vote_of
from panel.model.pairwise import PairTool, Pairwise, PairwisePick
from panel.model.run import ToolInfo
from panel.store.pairs import latest_pairwise, pair_ids, save_pairwise
from panel.store.postgres import PgStore
from panel.store.sqlite import Store
from panel.store.sync import SyncReport, same_location, sync_stores
from tests.conftest import PANEL
from tests.runs import make_run, verdict

Keep = Callable[[Store], Store]
VERDICTS = [verdict("builder", 70), verdict("skeptic", 40), verdict("founder", 65)]
FETCH = {
    "url": "https://acme.example/",
    "final_url": "https://acme.example/index",
    "status": 200,
    "etag": '"e1"',
    "last_modified": None,
    "sha256": "f" * 64,
    "fetched_at": "2026-11-25T12:59:00+00:00",
}
PAGE = b"Acme turns a backlog into reviews.\n"
PAGE_SHA = hashlib.sha256(PAGE).hexdigest()


def comparison(pair_id: str, created_at: str, pick: str) -> Pairwise:
    """An `acme vs zed` verdict of one persona, asked in both orders."""
    answer = PairwisePick(pick=pick, reason="r", pick_first_if="x", pick_second_if="y")
    swapped = answer.model_copy(update={"pick": "second" if pick == "first" else "first"})
    votes = [vote_of("builder", 1, [ask_of("ab", answer), ask_of("ba", swapped)])]
    return Pairwise(
        pair_id=pair_id,
        created_at=created_at,
        model="claude-sonnet-5-5",
        a=PairTool(slug="acme", name="Acme", run_id="r2"),
        b=PairTool(slug="zed", name="Zed", run_id="z1"),
        votes=votes,
        decision=decide_pair(votes, "Acme", "Zed"),
    )


def fill(home: Path) -> Store:
    """A person's data home: two tools, three runs (one a rerun), two comparisons of them,
    votes, files, a fetch and its page copy."""
    store = Store(home)
    store.save_run(make_run("r1", VERDICTS, created_at="2026-11-25T13:00:00+00:00"))
    store.save_run(
        make_run("r2", VERDICTS[:2], created_at="2026-11-26T09:00:00+00:00", parent_run_id="r1")
    )
    store.save_run(make_run("z1", VERDICTS, slug="zed", created_at="2026-11-25T14:00:00+00:00"))
    store.set_vote("acme", "ana", "ship")
    store.set_vote("acme", "bo", "skip")
    store.set_vote("zed", "ana", "ship")
    store.remember_file("https://api.anthropic.com", "a1", "file_a1", "acme.md", "text/plain", 10)
    store.remember_file("http://127.0.0.1:9", "a1", "file_local", "acme.md", "text/plain", 10)
    store.remember_fetch(FETCH, json.dumps({"title": "Acme", "sha256": PAGE_SHA}))
    store.keep_blob(PAGE_SHA, PAGE)
    save_pairwise(store, comparison("p1", "2026-11-26T10:00:00+00:00", "first"))
    save_pairwise(store, comparison("p2", "2026-11-27T10:00:00+00:00", "second"))
    return store


def snapshot(store: Store) -> dict[str, object]:
    """What a team sees of a store: tools, runs (whole records), comparisons, votes, files,
    fetches."""
    tools = [(r.slug, r.run_id, r.runs) for r in store.tool_rows()]
    runs = {
        slug: [store.load_run(run_id) for run_id in store.run_ids(slug)] for slug in ("acme", "zed")
    }
    votes = {slug: store.votes(slug).label for slug in ("acme", "zed")}
    files = {
        endpoint: store.file_id(endpoint, "a1")
        for endpoint in ("https://api.anthropic.com", "http://127.0.0.1:9")
    }
    fetch = store.last_fetch(FETCH["url"])
    page = store.blob(PAGE_SHA)
    return {
        "pairs": (pair_ids(store), latest_pairwise(store, "zed", "acme")),
        "tools": tools,
        "runs": runs,
        "votes": votes,
        "files": files,
        "fetch": fetch,
        "page": page,
    }


def counts(report: SyncReport) -> dict[str, tuple[int, int]]:
    return {kind: (c.copied, c.already) for kind, c in report.counts().items()}


@pytest.fixture
def keep() -> Iterator[Keep]:
    """Keep a store to close at the end of the test (a psycopg connection left open warns)."""
    stores: list[Store] = []

    def kept(store: Store) -> Store:
        stores.append(store)
        return store

    yield kept
    for store in stores:
        store.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "mine"
    fill(home).close()
    return home


def test_a_home_joins_the_shared_store_and_a_second_sync_copies_nothing(
    keep: Keep, home: Path, pg_url: str
) -> None:
    """Every run keeps its id and date; votes, both endpoints' files and the fetch arrive."""
    source = keep(Store.existing(home))
    target = keep(PgStore(pg_url, home))
    report = sync_stores(source, target)
    assert counts(report) == {
        "runs": (3, 0),
        "pairwise": (2, 0),
        "votes": (3, 0),
        "files": (2, 0),
        "fetches": (1, 0),
        "blobs": (1, 0),
    }
    assert report.problems == []
    assert snapshot(target) == snapshot(source)
    assert [r.slug for r in target.tool_rows()] == ["acme", "zed"]  # r2 is the newest run
    assert target.load_run("r2").parent_run_id == "r1"
    assert pair_ids(target) == ["p1", "p2"]
    assert latest_pairwise(target, "zed", "acme").decision.winner == "b"  # type: ignore[union-attr]

    again = sync_stores(source, target)
    assert again.copied == 0
    assert counts(again) == {
        "runs": (0, 3),
        "pairwise": (0, 2),
        "votes": (0, 3),
        "files": (0, 2),
        "fetches": (0, 1),
        "blobs": (0, 1),
    }
    assert target.run_ids("acme") == ["r1", "r2"]


def test_reverse_fills_an_empty_home(keep: Keep, home: Path, pg_url: str, tmp_path: Path) -> None:
    """The team's store into a new data home: records written as files, the index as SQLite."""
    team = keep(PgStore(pg_url, home))
    sync_stores(keep(Store.existing(home)), team)
    fresh = keep(Store(tmp_path / "fresh"))
    report = sync_stores(keep(PgStore(pg_url, home, readonly=True)), fresh)
    assert counts(report)["runs"] == (3, 0)
    assert snapshot(fresh) == snapshot(team)
    assert (tmp_path / "fresh" / "acme" / "r1.json").exists()
    assert (tmp_path / "fresh" / "pairs" / "acme--zed" / "p2.json").exists()
    assert sync_stores(team, fresh).copied == 0


def test_a_run_the_target_has_is_not_copied_again(keep: Keep, home: Path, pg_url: str) -> None:
    """The same run id in the target: kept once, counted as already there; the rest copied."""
    target = keep(PgStore(pg_url, home))
    target.save_run(make_run("r1", VERDICTS, created_at="2026-11-25T13:00:00+00:00"))
    target.set_vote("acme", "ana", "skip")  # the team's own vote by the same voter stays
    report = sync_stores(keep(Store.existing(home)), target)
    assert counts(report)["runs"] == (2, 1)
    assert counts(report)["votes"] == (2, 1)
    assert target.run_ids("acme") == ["r1", "r2"]
    assert target.all_run_ids().count("r1") == 1
    assert (target.votes("acme").ship, target.votes("acme").skip) == (0, 2)


def test_a_run_named_otherwise_elsewhere_is_filed_as_recorded(
    keep: Keep, home: Path, pg_url: str
) -> None:
    """A run's name was checked where it was made: sync files it, it does not refuse it."""
    target = keep(PgStore(pg_url, home))
    target.save_run(make_run("t1", VERDICTS, slug="node-js"))
    mine = keep(Store(home))
    run = make_run("m1", VERDICTS, slug="node-js")
    mine.save_run(
        run.model_copy(update={"tool": ToolInfo(name="Node JS", slug="node-js", name_given=True)})
    )
    report = sync_stores(keep(Store.existing(home)), target)
    assert counts(report)["runs"] == (4, 0)
    assert target.run_ids("node-js") == ["t1", "m1"]


def test_an_unreadable_record_is_named_and_the_rest_copied(
    keep: Keep, home: Path, pg_url: str
) -> None:
    """A record missing from the home is a problem of that run only."""
    (home / "zed" / "z1.json").unlink()
    target = keep(PgStore(pg_url, home))
    report = sync_stores(keep(Store.existing(home)), target)
    assert counts(report)["runs"] == (2, 0)
    assert len(report.problems) == 1 and "z1" in report.problems[0]
    assert target.run_ids("acme") == ["r1", "r2"]


def test_an_unreadable_comparison_is_named_and_the_rest_copied(
    keep: Keep, home: Path, pg_url: str
) -> None:
    """A comparison record missing from the home is a problem of that comparison only; the
    next sync, once it is back, copies it and nothing else."""
    record = home / "pairs" / "acme--zed" / "p1.json"
    kept = record.read_bytes()
    record.unlink()
    target = keep(PgStore(pg_url, home))
    report = sync_stores(keep(Store.existing(home)), target)
    assert counts(report)["pairwise"] == (1, 0)
    assert report.problems == [f"comparison p1: record {record} is missing"]
    record.write_bytes(kept)
    again = sync_stores(keep(Store.existing(home)), target)
    assert counts(again)["pairwise"] == (1, 1) and again.problems == []
    assert pair_ids(target) == ["p1", "p2"]


def test_the_same_store_is_recognised(tmp_path: Path) -> None:
    """A path however spelled; a URL however spelled, the password aside."""
    assert same_location(str(tmp_path / "a"), str(tmp_path / "b" / ".." / "a"))
    assert not same_location(str(tmp_path / "a"), str(tmp_path / "b"))
    assert same_location("postgresql://u@db/panel", "postgresql://u:secret@db:5432/panel")
    assert not same_location("postgresql://u@db/panel", "postgresql://u@db/other")
    assert not same_location("postgresql://u@db/panel", str(tmp_path))


# the command ----------------------------------------------------------------------------------


def panel(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "120", **(env or {})}
    return subprocess.run(
        [PANEL, *args], capture_output=True, text=True, env=full_env, timeout=60, check=False
    )


def one_line_error(proc: subprocess.CompletedProcess[str], text: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("panel: error: ")
    assert text in proc.stderr


def test_the_command_syncs_both_ways(home: Path, pg_url: str, tmp_path: Path) -> None:
    """`--to URL` with --json, then again (nothing copied), then `--reverse` into a new home."""
    first = panel("sync", "--from", str(home), "--to", pg_url, "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["source"] == str(home)
    assert {k: data[k]["copied"] for k in ("runs", "votes", "files", "fetches")} == {
        "runs": 3,
        "votes": 3,
        "files": 2,
        "fetches": 1,
    }
    again = panel("sync", "--from", str(home), "-j", env={"PANEL_DATABASE_URL": pg_url})
    assert again.returncode == 0, again.stderr
    assert {json.loads(again.stdout)[k]["copied"] for k in ("runs", "votes", "files")} == {0}

    fresh = tmp_path / "fresh"
    back = panel("sync", "--reverse", env={"PANEL_DATABASE_URL": pg_url, "PANEL_HOME": str(fresh)})
    assert back.returncode == 0, back.stderr
    assert back.stdout.splitlines()[0].endswith(f"-> {fresh}")
    assert f"{'runs':<12} {3:>6} copied  {0:>6} already there" in back.stdout
    assert f"{'pairwise':<12} {2:>6} copied" in back.stdout
    listed = panel("list", "--json", env={"PANEL_HOME": str(fresh)})
    assert [t["slug"] for t in json.loads(listed.stdout)] == ["acme", "zed"]


def test_the_command_copies_one_home_into_another(keep: Keep, home: Path, tmp_path: Path) -> None:
    """`--to` may name a second data home: the same copy, SQLite on both sides."""
    other = tmp_path / "other"
    proc = panel("sync", "--from", str(home), "--to", str(other), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["runs"] == {"copied": 3, "already": 0}
    assert snapshot(keep(Store.existing(other))) == snapshot(keep(Store.existing(home)))


def test_the_command_refuses_in_one_line(home: Path, tmp_path: Path) -> None:
    """No shared store, the same store twice, a URL of another kind, a home with no runs."""
    one_line_error(panel("sync", "--from", str(home)), "no shared store to sync with")
    one_line_error(
        panel("sync", "--from", str(home), "--to", str(home / ".." / home.name)),
        "--from and --to are the same store",
    )
    url = "postgresql://u:secret@db.example/panel"
    same = panel("sync", "--from", url, "--to", "postgresql://u@db.example:5432/panel")
    one_line_error(same, "the same store (postgresql://u:***@db.example/panel)")
    one_line_error(
        panel("sync", "--from", str(home), "--to", "mysql://db/panel"),
        "--to: 'mysql://db/panel' is not a postgresql:// URL",
    )
    one_line_error(panel("sync", "--from", str(tmp_path / "none"), "--to", str(home)), "no runs in")


@pytest.mark.parametrize("option", ["--to", "--from"])
def test_a_key_value_connection_string_is_refused_not_made_a_folder(
    home: Path, tmp_path: Path, option: str
) -> None:
    """`host=... password=...` is not a path: refused in one line, its password hidden, and no
    folder of that name appears."""
    dsn = "host=127.0.0.1 port=1 user=u password=s3cret dbname=x"
    args = ["--to", dsn, "--from", str(home)] if option == "--to" else ["--from", dsn]
    proc = panel("sync", *args, env={"PANEL_DATABASE_URL": "postgresql://u@127.0.0.1:1/x"})
    one_line_error(proc, f"{option}: 'host=127.0.0.1 port=1 user=u password=*** dbname=x'")
    assert "s3cret" not in proc.stderr + proc.stdout
    assert not list(Path.cwd().glob("host=*")) and not list(tmp_path.glob("host=*"))
