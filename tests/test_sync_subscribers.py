"""`panel sync` and the newsletter's subscribers: left where they are unless asked; with
--subscribers, the confirmed ones only, with their ids and the digests they got, and an
unsubscribe wins on a later sync. Into PostgreSQL and into another data home alike."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from panel.store.digest_log import DigestLog
from panel.store.postgres import PgStore
from panel.store.sqlite import Store
from panel.store.subscribers import Subscribers
from panel.store.sync import sync_stores
from tests.conftest import PANEL
from tests.runs import make_run, verdict

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ANA, BO, CY = "ana@example.com", "bo@example.com", "cy@example.org"
Open = Callable[[], Store]


@pytest.fixture
def stores() -> Iterator[list[Store]]:
    """Stores to close at the end of the test (a psycopg connection left open warns)."""
    opened: list[Store] = []
    yield opened
    for store in opened:
        store.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A site's data home: ANA confirmed (and sent a digest), BO pending, CY unsubscribed."""
    store = Store(tmp_path / "site")
    store.save_run(make_run("r1", [verdict("builder", 70)]))
    book = Subscribers(store)
    ana = book.subscribe(ANA, now=T0).subscriber.id
    book.confirm(ana, now=T0 + timedelta(hours=1))
    book.subscribe(BO, now=T0 + timedelta(days=30))
    cy = book.subscribe(CY, now=T0).subscriber.id
    book.confirm(cy, now=T0)
    book.unsubscribe(cy, now=T0 + timedelta(days=2))
    DigestLog(store).record("digest-1", ana, now=T0 + timedelta(days=3))
    store.close()
    return tmp_path / "site"


@pytest.fixture(params=["postgres", "sqlite"])
def target(request: pytest.FixtureRequest, tmp_path: Path, home: Path, stores: list[Store]) -> Open:
    """The store copied into: a fresh PostgreSQL database, or another data home."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")

        def make() -> Store:
            stores.append(PgStore(url, home))
            return stores[-1]
    else:

        def make() -> Store:
            stores.append(Store(tmp_path / "other"))
            return stores[-1]

    return make


def source(home: Path, stores: list[Store]) -> Store:
    stores.append(Store.existing(home))
    return stores[-1]


def test_without_the_flag_no_address_is_copied(
    home: Path, target: Open, stores: list[Store]
) -> None:
    """A plain sync copies the runs and no subscriber, and counts the confirmed it left."""
    into = target()
    report = sync_stores(source(home, stores), into)
    assert report.runs.copied == 1
    assert report.subscribers is None and report.digest_sends is None
    assert report.subscribers_not_copied == 1
    assert Subscribers(into).counts() == {}
    assert "subscribers" not in report.counts()


def test_the_flag_copies_the_confirmed_with_their_ids_and_digests(
    home: Path, target: Open, stores: list[Store]
) -> None:
    """The confirmed subscriber arrives as it was (id, dates) with the digest it got; the pending
    and the unsubscribed addresses do not; a second sync copies nothing."""
    mine = Subscribers(source(home, stores)).confirmed()
    into = target()
    report = sync_stores(source(home, stores), into, subscribers=True)
    assert report.subscribers is not None and report.digest_sends is not None
    assert (report.subscribers.copied, report.digest_sends.copied) == (1, 1)
    theirs = Subscribers(into)
    assert theirs.confirmed() == mine
    assert theirs.counts() == {"confirmed": 1}
    assert DigestLog(into).sent_to("digest-1") == {mine[0].id}
    again = sync_stores(source(home, stores), into, subscribers=True)
    assert again.copied == 0
    assert again.subscribers is not None and again.subscribers.already == 1


def test_an_unsubscribe_in_the_source_wins_on_the_next_sync(
    home: Path, target: Open, stores: list[Store]
) -> None:
    """Copied while confirmed, then unsubscribed where it was given: the next sync stops it in
    the target too (the target's own unsubscribed address is never brought back)."""
    into = target()
    sync_stores(source(home, stores), into, subscribers=True)
    writable = Store(home)
    stores.append(writable)
    ana = Subscribers(writable).confirmed()[0].id
    Subscribers(writable).unsubscribe(ana, now=T0 + timedelta(days=4))
    report = sync_stores(source(home, stores), into, subscribers=True)
    assert report.unsubscribes is not None and report.unsubscribes.copied == 1
    gone = Subscribers(into).get(ana)
    assert gone is not None and gone.status == "unsubscribed"
    assert gone.unsubscribed_at == (T0 + timedelta(days=4)).isoformat()
    assert Subscribers(into).confirmed() == []


def test_the_targets_own_state_of_an_address_stands(
    home: Path, target: Open, stores: list[Store]
) -> None:
    """An address the target has (here: unsubscribed there) is not overwritten by the source's
    confirmed row of it."""
    into = target()
    book = Subscribers(into)
    sid = book.subscribe(ANA, now=T0).subscriber.id
    book.unsubscribe(sid, now=T0)
    report = sync_stores(source(home, stores), into, subscribers=True)
    assert report.subscribers is not None
    assert (report.subscribers.copied, report.subscribers.already) == (0, 1)
    assert book.confirmed() == [] and book.counts() == {"unsubscribed": 1}
    assert report.digest_sends is not None and report.digest_sends.copied == 0


def panel(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PANEL, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
        timeout=60,
        check=False,
    )


def test_the_command_says_what_it_left_and_copies_on_request(home: Path, tmp_path: Path) -> None:
    """`panel sync` notes the confirmed subscribers it left; --subscribers copies them; --help
    says both."""
    other = str(tmp_path / "other")
    plain = panel("sync", "--from", str(home), "--to", other)
    assert plain.returncode == 0, plain.stderr
    assert "1 confirmed newsletter subscriber(s) not copied" in plain.stderr
    assert "subscribers" not in plain.stdout
    asked = panel("sync", "--from", str(home), "--to", other, "--subscribers", "--json")
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert data["subscribers"] == {"copied": 1, "already": 0}
    assert data["subscribers_not_copied"] == 0
    assert all(a not in asked.stdout + asked.stderr for a in (ANA, BO, CY))
    shown = " ".join(panel("sync", "--help").stdout.split())
    assert "--subscribers" in shown and "Pending and unsubscribed addresses are never" in shown
