"""Which store a command uses: SQLite in the data home, or PostgreSQL when
`PANEL_DATABASE_URL=postgresql://...` names a shared database."""

from __future__ import annotations

import os
from pathlib import Path

from panel.errors import InputError
from panel.store.connection import redact
from panel.store.sqlite import Store

DATABASE_URL_ENV = "PANEL_DATABASE_URL"


def database_url(url: str | None = None) -> str | None:
    """The shared database to use: the argument (`--db`), else `PANEL_DATABASE_URL`, else None."""
    given = "--db" if url else DATABASE_URL_ENV
    url = url or os.environ.get(DATABASE_URL_ENV) or None
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise InputError(f"{given}: {redact(url)!r} is not a postgresql:// URL")
    return url


def open_store(home: Path, *, url: str | None = None) -> Store:
    """The store to write to (created or set up if new)."""
    url = database_url(url)
    if url is None:
        return Store(home)
    from panel.store.postgres import PgStore  # psycopg only when a database is named

    return PgStore(url, home)


def existing_store(home: Path, *, writable: bool = False, url: str | None = None) -> Store:
    """The store to read (never created): as `Store.existing`, or the shared database."""
    url = database_url(url)
    if url is None:
        return Store.existing(home, writable=writable)
    from panel.store.postgres import PgStore

    return PgStore(url, home, readonly=not writable)
