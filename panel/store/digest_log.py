"""Which subscribers each digest was mailed to, so sending the same digest again mails nobody twice.

A row is a digest's key (`Digest.key`: what it shows, not when it was sent), a subscriber id (never
the address) and when the SMTP server accepted the mail. `panel digest --send` records each send
in its own transaction right after the server's acceptance, so a crash mid-send leaves every mail
sent before it recorded: at most the one mail in flight is not (WAL with synchronous=NORMAL loses
a commit to a power cut, not to a killed process). A mail the server refused is not recorded, and
goes out on the next send.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from panel.store.sqlite import Store

# SQLite's copy of migration 5 (`panel.store.migrations`), created on first use.
SCHEMA = """
CREATE TABLE IF NOT EXISTS digest_sends (
    digest TEXT NOT NULL,
    subscriber_id TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (digest, subscriber_id)
);
"""
COLUMNS = ("digest", "subscriber_id", "sent_at")
KEY = ("digest", "subscriber_id")


class DigestLog:
    """The `digest_sends` table of a store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        if store.dialect == "sqlite" and not store.readonly:
            store.db.executescript(SCHEMA)

    def sent_to(self, digest: str) -> set[str]:
        """The ids of the subscribers this digest already went to."""
        try:
            rows = self.store.db.execute(
                "SELECT subscriber_id FROM digest_sends WHERE digest = ?", (digest,)
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only data home that never sent a digest
            return set()
        return {str(r["subscriber_id"]) for r in rows}

    def record(self, digest: str, subscriber_id: str, *, now: datetime | None = None) -> None:
        """Note one accepted mail, committed before the next one is sent."""
        when = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO digest_sends VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (digest, subscriber_id, when),
            )
