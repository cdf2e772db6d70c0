"""The newsletter's subscribers, on the store's connection (SQLite's or the shared PostgreSQL one).

Double opt-in: an address starts `pending`, becomes `confirmed` through the link mailed to it, and
`unsubscribed` through the link every mail carries. Links name a subscriber by its random `id`,
never by the address, so an address never reaches a URL, a page or an access log.

A pending address whose last confirmation link has expired (`DEFAULT_CONFIRM_MAX_AGE` after it was
mailed, or after the request when no mail went) can never be confirmed: it is deleted, so an
address nobody confirmed is not kept. Each new subscription purges them, as `panel digest --send`
does.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from panel.config import DEFAULT_CONFIRM_MAX_AGE
from panel.store.sqlite import Store

Status = Literal["pending", "confirmed", "unsubscribed"]
# A pending address is mailed its confirmation link again only after this long: asking twice in a
# row (or someone else asking for it) sends one mail, not a mail per click.
DEFAULT_RESEND = timedelta(minutes=10)

# SQLite's copy of migration 3 (`panel.store.migrations`): created on first use, as the job tables.
SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    unsubscribed_at TEXT,
    mailed_at TEXT
);
"""


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Subscriber:
    """One address and where it stands; `repr` leaves the address out, so a log line cannot."""

    id: str
    email: str = field(repr=False)
    status: Status
    created_at: str
    confirmed_at: str | None
    unsubscribed_at: str | None
    mailed_at: str | None

    @classmethod
    def from_row(cls, row: Any) -> Subscriber:
        return cls(
            id=row["id"],
            email=row["email"],
            status=row["status"],
            created_at=row["created_at"],
            confirmed_at=row["confirmed_at"],
            unsubscribed_at=row["unsubscribed_at"],
            mailed_at=row["mailed_at"],
        )


@dataclass(frozen=True)
class Subscription:
    """What `subscribe` did: the row, and whether a confirmation mail should go out now."""

    subscriber: Subscriber
    send_confirmation: bool


class Subscribers:
    """The `subscribers` table of a store. Every change is one short transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if store.dialect == "sqlite" and not store.readonly:
            store.db.executescript(SCHEMA)

    def subscribe(
        self,
        email: str,
        *,
        now: datetime | None = None,
        resend: timedelta = DEFAULT_RESEND,
        pending_for: timedelta = DEFAULT_CONFIRM_MAX_AGE,
    ) -> Subscription:
        """Record `email` (already validated and normalised) as pending, or leave it be.

        A new or unsubscribed address gets a fresh id (an old link stops working) and a mail; a
        pending one gets its mail again once `resend` has passed; a confirmed one gets none.
        Pending addresses whose link expired (`pending_for`) are purged first, this one too: it
        starts again under a fresh id.
        """
        now = now or datetime.now(UTC)
        fresh = secrets.token_urlsafe(16)
        with self.store.transaction() as db:
            self._purge(db, now, pending_for)
            db.execute(
                """INSERT INTO subscribers (id, email, status, created_at)
                   VALUES (?, ?, 'pending', ?) ON CONFLICT (email) DO NOTHING""",
                (fresh, email, _iso(now)),
            )
            row = Subscriber.from_row(
                db.execute("SELECT * FROM subscribers WHERE email = ?", (email,)).fetchone()
            )
            if row.id == fresh:
                return Subscription(row, True)
            if row.status == "unsubscribed":
                db.execute(
                    """UPDATE subscribers SET id = ?, status = 'pending', created_at = ?,
                         confirmed_at = NULL, unsubscribed_at = NULL, mailed_at = NULL
                       WHERE id = ?""",
                    (fresh, _iso(now), row.id),
                )
                return Subscription(
                    replace(
                        row,
                        id=fresh,
                        status="pending",
                        created_at=_iso(now),
                        confirmed_at=None,
                        unsubscribed_at=None,
                        mailed_at=None,
                    ),
                    True,
                )
        if row.status == "confirmed":
            return Subscription(row, False)
        due = row.mailed_at is None or datetime.fromisoformat(row.mailed_at) + resend <= now
        return Subscription(row, due)

    def purge_pending(
        self, *, now: datetime | None = None, pending_for: timedelta = DEFAULT_CONFIRM_MAX_AGE
    ) -> int:
        """Delete the pending addresses whose confirmation link has expired; how many."""
        with self.store.transaction() as db:
            return self._purge(db, now or datetime.now(UTC), pending_for)

    @staticmethod
    def _purge(db: Any, now: datetime, pending_for: timedelta) -> int:
        # Every date here is written by `_iso` (UTC, whole seconds, one fixed width): text order
        # is time order. A link is good for `pending_for` exactly, so one that age is kept.
        cur = db.execute(
            """DELETE FROM subscribers
               WHERE status = 'pending' AND COALESCE(mailed_at, created_at) < ?""",
            (_iso(now - pending_for),),
        )
        return max(cur.rowcount or 0, 0)

    def mailed(self, subscriber_id: str, *, now: datetime | None = None) -> None:
        """Note that the confirmation mail went out (the resend throttle counts from here)."""
        with self.store.transaction() as db:
            db.execute(
                "UPDATE subscribers SET mailed_at = ? WHERE id = ?",
                (_iso(now or datetime.now(UTC)), subscriber_id),
            )

    def confirm(self, subscriber_id: str, *, now: datetime | None = None) -> Subscriber | None:
        """Activate a pending subscription; a confirmed one stays as it is. None when the id is
        unknown or was unsubscribed since (its confirmation link no longer counts)."""
        with self.store.transaction() as db:
            db.execute(
                """UPDATE subscribers SET status = 'confirmed', confirmed_at = ?
                   WHERE id = ? AND status = 'pending'""",
                (_iso(now or datetime.now(UTC)), subscriber_id),
            )
            row = self._get(db, subscriber_id)
        return row if row is not None and row.status == "confirmed" else None

    def unsubscribe(self, subscriber_id: str, *, now: datetime | None = None) -> bool:
        """Stop every mail to the subscriber; False when the id is unknown. Idempotent."""
        with self.store.transaction() as db:
            db.execute(
                """UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?
                   WHERE id = ? AND status != 'unsubscribed'""",
                (_iso(now or datetime.now(UTC)), subscriber_id),
            )
            return self._get(db, subscriber_id) is not None

    def get(self, subscriber_id: str) -> Subscriber | None:
        try:
            return self._get(self.store.db, subscriber_id)
        except sqlite3.OperationalError:  # a read-only data home nobody has subscribed in yet
            return None

    def confirmed(self) -> list[Subscriber]:
        """Everyone a digest goes to, in the order they subscribed."""
        return self._where("confirmed", "confirmed_at")

    def unsubscribed(self) -> list[Subscriber]:
        """Everyone who left, in the order they did (`panel sync --subscribers` copies it)."""
        return self._where("unsubscribed", "unsubscribed_at")

    def _where(self, status: Status, order: str) -> list[Subscriber]:
        try:
            rows = self.store.db.execute(
                f"SELECT * FROM subscribers WHERE status = ? ORDER BY {order}, id", (status,)
            ).fetchall()
        except sqlite3.OperationalError:  # as in `get`
            return []
        return [Subscriber.from_row(r) for r in rows]

    def adopt(self, subscriber: Subscriber) -> bool:
        """File a subscription made in another store as it is there (id, dates and all), unless
        this store has its id or its address: what is here stands. True when it was filed."""
        with self.store.transaction() as db:
            cur = db.execute(
                """INSERT INTO subscribers (id, email, status, created_at, confirmed_at,
                     unsubscribed_at, mailed_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT DO NOTHING""",
                (
                    subscriber.id,
                    subscriber.email,
                    subscriber.status,
                    subscriber.created_at,
                    subscriber.confirmed_at,
                    subscriber.unsubscribed_at,
                    subscriber.mailed_at,
                ),
            )
        return bool(cur.rowcount and cur.rowcount > 0)

    def counts(self) -> dict[str, int]:
        """How many addresses stand where: numbers only, for messages."""
        try:
            rows = self.store.db.execute(
                "SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status"
            ).fetchall()
        except sqlite3.OperationalError:
            return {}
        return {r["status"]: int(r["n"]) for r in rows}

    @staticmethod
    def _get(db: Any, subscriber_id: str) -> Subscriber | None:
        row = db.execute("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
        return Subscriber.from_row(row) if row else None
