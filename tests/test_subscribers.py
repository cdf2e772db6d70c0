"""The subscribers table on both stores: double opt-in states, the resend throttle, fresh ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from panel.store.sqlite import Store
from panel.store.subscribers import Subscribers

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADDRESS = "reader@example.com"


def test_a_new_address_is_pending_and_gets_a_mail(make_store: Callable[..., Store]) -> None:
    """Subscribing records a pending address and asks for a confirmation mail."""
    done = Subscribers(make_store()).subscribe(ADDRESS, now=T0)
    assert done.send_confirmation and done.subscriber.status == "pending"
    assert done.subscriber.created_at == T0.isoformat()


def test_confirming_activates_and_is_idempotent(make_store: Callable[..., Store]) -> None:
    """A pending subscription becomes confirmed, and confirming again keeps it so."""
    subs = Subscribers(make_store())
    sid = subs.subscribe(ADDRESS, now=T0).subscriber.id
    assert subs.confirm(sid, now=T0) is not None
    again = subs.confirm(sid, now=T0 + timedelta(hours=1))
    assert again is not None and again.confirmed_at == T0.isoformat()
    assert [s.id for s in subs.confirmed()] == [sid]


def test_a_pending_address_is_mailed_again_only_after_the_resend_time(
    make_store: Callable[..., Store],
) -> None:
    """A second request within ten minutes of the mail sends none; after, it sends one."""
    subs = Subscribers(make_store())
    sid = subs.subscribe(ADDRESS, now=T0).subscriber.id
    subs.mailed(sid, now=T0)
    assert not subs.subscribe(ADDRESS, now=T0 + timedelta(minutes=5)).send_confirmation
    later = subs.subscribe(ADDRESS, now=T0 + timedelta(minutes=11))
    assert later.send_confirmation and later.subscriber.id == sid


def test_a_confirmed_address_is_not_mailed_again(make_store: Callable[..., Store]) -> None:
    """Subscribing a confirmed address changes nothing and sends nothing."""
    subs = Subscribers(make_store())
    sid = subs.subscribe(ADDRESS, now=T0).subscriber.id
    subs.confirm(sid)
    again = subs.subscribe(ADDRESS, now=T0 + timedelta(days=1))
    assert not again.send_confirmation and again.subscriber.status == "confirmed"


def test_unsubscribing_stops_the_digest_and_kills_the_confirm(
    make_store: Callable[..., Store],
) -> None:
    """An unsubscribed address is no longer confirmed, and cannot be confirmed by its old id."""
    subs = Subscribers(make_store())
    sid = subs.subscribe(ADDRESS, now=T0).subscriber.id
    assert subs.unsubscribe(sid)
    assert subs.confirm(sid) is None and subs.confirmed() == []
    assert subs.counts() == {"unsubscribed": 1}


def test_subscribing_again_after_unsubscribing_gets_a_fresh_id(
    make_store: Callable[..., Store],
) -> None:
    """A returning reader starts pending under a new id, so the old links stay dead."""
    subs = Subscribers(make_store())
    old = subs.subscribe(ADDRESS, now=T0).subscriber.id
    subs.confirm(old)
    subs.unsubscribe(old)
    back = subs.subscribe(ADDRESS, now=T0 + timedelta(days=2))
    assert back.send_confirmation and back.subscriber.status == "pending"
    assert back.subscriber.id != old and subs.get(old) is None


def test_an_unknown_id_changes_nothing(make_store: Callable[..., Store]) -> None:
    """Confirming or unsubscribing an id nobody has is refused."""
    subs = Subscribers(make_store())
    assert subs.confirm("nobody") is None and not subs.unsubscribe("nobody")


def test_the_repr_of_a_subscriber_holds_no_address(make_store: Callable[..., Store]) -> None:
    """A subscriber printed into a log line does not carry its address."""
    row = Subscribers(make_store()).subscribe(ADDRESS, now=T0).subscriber
    assert ADDRESS not in repr(row) and row.id in repr(row)


def test_a_read_only_home_without_the_table_has_no_subscribers(tmp_path: object) -> None:
    """A data home nobody subscribed in reads as no subscribers, and creates nothing."""
    from pathlib import Path

    home = Path(str(tmp_path)) / "ro"
    Store(home).close()
    store = Store.existing(home)
    try:
        assert Subscribers(store).confirmed() == [] and Subscribers(store).counts() == {}
    finally:
        store.close()


# pending addresses whose confirmation link expired ---------------------------------------------

LINK = timedelta(hours=48)


def test_a_pending_address_is_purged_once_its_link_expired(
    make_store: Callable[..., Store],
) -> None:
    """Kept while its link works (48 h exactly included), deleted by the next subscription after."""
    subs = Subscribers(make_store())
    sid = subs.subscribe(ADDRESS, now=T0).subscriber.id
    subs.mailed(sid, now=T0)
    subs.subscribe("other@example.com", now=T0 + LINK)
    assert subs.get(sid) is not None
    subs.subscribe("third@example.com", now=T0 + LINK + timedelta(seconds=1))
    assert subs.get(sid) is None
    assert subs.counts() == {"pending": 2}


def test_the_link_lifetime_counts_from_the_last_mail(make_store: Callable[..., Store]) -> None:
    """A confirmation mailed again renews the address's time; never mailed, its request counts."""
    subs = Subscribers(make_store())
    sid = subs.subscribe(ADDRESS, now=T0).subscriber.id
    subs.mailed(sid, now=T0 + timedelta(hours=40))
    unmailed = subs.subscribe("other@example.com", now=T0).subscriber.id
    assert subs.purge_pending(now=T0 + timedelta(hours=49)) == 1
    assert subs.get(unmailed) is None and subs.get(sid) is not None
    assert subs.purge_pending(now=T0 + timedelta(hours=89)) == 1
    assert subs.counts() == {}


def test_confirmed_and_unsubscribed_addresses_are_never_purged(
    make_store: Callable[..., Store],
) -> None:
    """Only pending addresses expire."""
    subs = Subscribers(make_store())
    kept = subs.subscribe(ADDRESS, now=T0).subscriber.id
    subs.confirm(kept, now=T0)
    gone = subs.subscribe("other@example.com", now=T0).subscriber.id
    subs.unsubscribe(gone, now=T0)
    assert subs.purge_pending(now=T0 + timedelta(days=400)) == 0
    assert subs.counts() == {"confirmed": 1, "unsubscribed": 1}


def test_an_expired_pending_address_subscribing_again_starts_afresh(
    make_store: Callable[..., Store],
) -> None:
    """Its dead link names an id that no longer exists; the new mail carries a new one."""
    subs = Subscribers(make_store())
    old = subs.subscribe(ADDRESS, now=T0).subscriber.id
    subs.mailed(old, now=T0)
    again = subs.subscribe(ADDRESS, now=T0 + timedelta(days=3))
    assert again.send_confirmation and again.subscriber.id != old
    assert subs.confirm(old) is None
