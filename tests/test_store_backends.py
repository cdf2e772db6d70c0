"""The storage interface on both stores: votes, the file registry, upload claims, fetch records,
names, batch job tables and schema versions (SQLite in a data home, PostgreSQL in a database)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from panel.batch.backlog import BacklogRow
from panel.batch.jobs import Jobs
from panel.config import resolve
from panel.errors import InputError
from panel.sources.web import load_url
from panel.store.connection import SchemaTooNew
from panel.store.open import existing_store
from panel.store.sqlite import Store
from tests.pages import PageServer
from tests.runs import make_run, verdict

MakeStore = Callable[..., Store]


def test_a_run_round_trips_with_its_record(make_store: MakeStore) -> None:
    """What is saved loads back whole, and the tool is listed with its run count."""
    store = make_store()
    run = make_run("r1", [verdict("builder", 70), verdict("skeptic", 40)])
    store.save_run(run)
    assert store.load_run("r1") == run
    assert store.run_ids_starting("r") == ["r1"]
    [row] = store.tool_rows()
    assert (row.slug, row.runs, row.run_id) == ("acme", 1, "r1")


def test_votes_are_one_per_voter_and_changeable(make_store: MakeStore) -> None:
    """Voting again changes the vote; clearing removes it, and clearing twice says so."""
    store = make_store()
    store.set_vote("acme", "ana", "ship")
    store.set_vote("acme", "bo", "ship")
    store.set_vote("acme", "ana", "skip")
    assert (store.votes("acme").ship, store.votes("acme").skip) == (1, 1)
    assert store.clear_vote("acme", "ana") is True
    assert store.clear_vote("acme", "ana") is False


def test_the_file_registry_keeps_one_id_per_content_and_endpoint(make_store: MakeStore) -> None:
    """A content is known per endpoint; recording it again replaces the id."""
    store = make_store()
    store.remember_file("https://a", "sha1", "file_1", "x.md", "text/plain", 10)
    store.remember_file("https://a", "sha1", "file_2", "x.md", "text/plain", 10)
    assert store.file_id("https://a", "sha1") == "file_2"
    assert store.file_id("https://b", "sha1") is None


def test_an_upload_claim_is_exclusive_until_released(make_store: MakeStore) -> None:
    """A second owner is busy while the claim is live, and claims it once released."""
    store = make_store()
    assert store.claim_upload("e", "sha", "host:1:a", 60) == "claimed"
    assert store.claim_upload("e", "sha", "other-host:2:b", 60) == "busy"
    store.release_upload("e", "sha", "host:1:a")
    assert store.claim_upload("e", "sha", "other-host:2:b", 60) == "claimed"


def test_an_expired_claim_is_taken_over(make_store: MakeStore) -> None:
    """A worker that died holding a claim does not block the content for ever."""
    store = make_store()
    assert store.claim_upload("e", "sha", "other-host:1:a", -1) == "claimed"
    assert store.claim_upload("e", "sha", "other-host:2:b", 60) == "taken_over"


def test_a_fetch_record_is_replaced(make_store: MakeStore) -> None:
    """The last fetch of a URL is kept, with its validators."""
    store = make_store()
    info = {
        "url": "https://x",
        "final_url": "https://x/",
        "status": 200,
        "etag": "e1",
        "sha256": "s1",
        "fetched_at": "2026-11-25T13:00:00+00:00",
    }
    store.remember_fetch(info, "{}")
    store.remember_fetch({**info, "etag": "e2"}, '{"a": 1}')
    got = store.last_fetch("https://x")
    assert got is not None and (got["etag"], got["document"]) == ("e2", '{"a": 1}')
    assert store.last_fetch("https://y") is None


def test_a_fetched_page_copy_is_kept_where_its_fetch_record_is(
    make_store: MakeStore, tmp_path: Path
) -> None:
    """The data home keeps the bytes as a file; the shared store in the database (none on disk)."""
    store = make_store()
    assert store.blob("ab12") is None
    store.keep_blob("ab12", b"\x00page text")
    store.keep_blob("ab12", b"written once")
    assert store.blob("ab12") == b"\x00page text"
    files = list((tmp_path / "store").glob("blobs/*/*"))
    assert len(files) == (0 if store.dialect == "postgres" else 1)


def test_a_copy_that_is_not_the_recorded_bytes_is_fetched_again(
    make_store: MakeStore, site: PageServer
) -> None:
    """A 304 may only rebuild the document from the very bytes recorded: a truncated or altered
    copy makes the next fetch unconditional, and that fetch keeps a good copy again."""
    store = make_store()
    settings = resolve(allow_private=True)
    first = load_url(f"{site.url}/etag", settings=settings, store=store)
    if store.dialect == "postgres":
        store.db.execute("UPDATE blobs SET data = ? WHERE sha256 = ?", (b"cut", first.sha256))
    else:
        store.blob_path(first.sha256).write_bytes(b"cut")
    again = load_url(f"{site.url}/etag", settings=settings, store=store)
    assert again.fetch is not None and not again.fetch.not_modified
    # the page again, not the damaged copy (its header names the fetch time, so bytes may differ)
    assert again.data != b"cut" and body(again.data) == body(first.data)
    if store.dialect == "sqlite":
        store.blob_path(again.sha256).unlink()  # kept once: a copy that exists is not rewritten
    else:
        store.db.execute("DELETE FROM blobs")
    refetched = load_url(f"{site.url}/etag", settings=settings, store=store)
    third = load_url(f"{site.url}/etag", settings=settings, store=store)
    assert third.fetch is not None and third.fetch.not_modified and third.data == refetched.data


def body(data: bytes) -> bytes:
    """A fetched page's text below its header lines (title, source, fetch time)."""
    return data.split(b"\n\n", 1)[1]


def test_a_name_that_only_shares_the_slug_is_refused(make_store: MakeStore) -> None:
    """`Node.js` and `Node JS` share `node-js`: the second name is not filed with the first."""
    store = make_store()
    store.save_run(make_run("r1", [verdict("builder", 70)], slug="node-js"))
    assert store.names_of("node-js") == ["Node-js"]
    with pytest.raises(InputError, match="already the tool"):
        store.check_name("node-js", "Node JS")


def test_a_job_item_is_done_in_the_transaction_that_indexes_its_run(make_store: MakeStore) -> None:
    """The batch tables run on both stores: open a job, record a run through `mark_run`."""
    store = make_store()
    jobs = Jobs(store)
    rows = [
        BacklogRow(name="Acme", slug="acme", line=2),
        BacklogRow(name="Zed", slug="zed", line=3),
    ]
    jobs.open("job", Path("b.csv"), rows, via="live", model="m")
    jobs.set_state("job", "acme", "running")
    also = jobs.mark_run("job")
    run = make_run("r1", [verdict(p, 70) for p in ("builder", "skeptic", "founder")])
    store.save_run(run, also=lambda db: also(db, run))
    assert jobs.counts("job") == {"done": 1, "pending": 1}
    assert jobs.snapshot("job")["done"] == 1
    assert [r["run_id"] for r in jobs.runs("job")] == ["r1"]
    assert [j["job_id"] for j in jobs.overview()] == ["job"]
    assert jobs.retry_counts("job") == {}


def test_a_newer_schema_is_refused_in_one_line(make_store: MakeStore, tmp_path: Path) -> None:
    """A store written by a newer panel is not read or written by this one."""
    store = make_store()
    store.save_run(make_run("r1", [verdict("builder", 70)]))
    known = store.schema_version()
    with store.transaction() as db:
        db.execute("INSERT INTO schema_version VALUES (?, ?)", (99, "later"))
    store.close()
    with pytest.raises(SchemaTooNew, match=rf"schema version 99 is newer .*\({known}\); upgrade"):
        existing_store(tmp_path / "store")
