"""The digest log on both stores, a digest's key, and a send that stops when it cannot record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from panel.judge.personas import load_personas
from panel.serve.newsletter import Digest, Tokens, build_digest, smtp_config
from panel.serve.newsletter.mailing import SendNotRecorded, send_digest
from panel.store.digest_log import DigestLog
from panel.store.sqlite import Store
from panel.store.subscribers import Subscribers
from tests.runs import make_run, verdict
from tests.smtp import SmtpSink

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SITE = "https://verdicts.example"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def test_a_send_is_recorded_once_per_digest_and_subscriber(
    make_store: Callable[..., Store],
) -> None:
    """Recording twice keeps one row; another digest has its own list."""
    log = DigestLog(make_store())
    log.record("d1", "s1", now=NOW)
    log.record("d1", "s1", now=NOW + timedelta(hours=1))
    log.record("d1", "s2", now=NOW)
    assert log.sent_to("d1") == {"s1", "s2"}
    assert log.sent_to("d2") == set()


def test_a_read_only_home_that_never_sent_has_sent_nothing(tmp_path: Path) -> None:
    """Previewing on a read-only data home finds no log and needs none."""
    Store(tmp_path).close()
    store = Store.existing(tmp_path)
    try:
        assert DigestLog(store).sent_to("d1") == set()
    finally:
        store.close()


def digest_of(store: Store, now: datetime, since: timedelta = timedelta(days=7)) -> Digest:
    return build_digest(store, load_personas(None), since, base_url=SITE, now=now)


def test_the_key_is_what_the_digest_shows_not_when_it_was_asked(
    make_store: Callable[..., Store],
) -> None:
    """An hour later or a day wider, the same runs are the same digest; a new run makes a new one."""
    store = make_store()
    store.save_run(make_run("r1", [verdict("builder", 80)], created_at="2026-12-02T10:00:00+00:00"))
    first = digest_of(store, NOW).key
    assert digest_of(store, NOW + timedelta(hours=1), timedelta(days=8)).key == first
    store.save_run(
        make_run("z1", [verdict("builder", 50)], slug="zed", created_at="2026-12-03T11:00:00+00:00")
    )
    assert digest_of(store, NOW).key != first


def test_a_send_that_cannot_be_recorded_stops_there(
    make_store: Callable[..., Store], smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store failing after the server took a mail: no further mail goes, and it says so."""
    store = make_store()
    store.save_run(make_run("r1", [verdict("builder", 80)], created_at="2026-12-02T10:00:00+00:00"))
    book = Subscribers(store)
    for address in ("a@example.com", "b@example.com", "c@example.com"):
        book.confirm(book.subscribe(address).subscriber.id)
    real = DigestLog.record
    calls: list[str] = []
    full = store._write_errors[-1]  # sqlite3.Error or psycopg.Error: what a full disk raises

    def failing(self: DigestLog, digest: str, subscriber_id: str, **kw: object) -> None:
        calls.append(subscriber_id)
        if len(calls) == 2:
            raise full("database or disk is full")
        real(self, digest, subscriber_id)

    monkeypatch.setattr(DigestLog, "record", failing)
    digest = digest_of(store, NOW)
    with pytest.raises(SendNotRecorded, match=r"could not be recorded in .*stopped"):
        send_digest(
            store,
            digest,
            book.confirmed(),
            config=smtp_config(smtp.url),
            tokens=Tokens(b"0123456789abcdef0123"),
            site=SITE,
        )
    assert len(smtp.wait_for(2)) == 2 and len(calls) == 2
    assert DigestLog(store).sent_to(digest.key) == {calls[0]}
