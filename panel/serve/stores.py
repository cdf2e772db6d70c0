"""The store behind the live site, used from worker threads so the event loop never waits on disk.

Each worker thread opens its own connection (an SQLite connection belongs to its thread). Writes go
through a smaller limiter than reads: SQLite takes one writer at a time anyway (WAL, busy timeout),
so queueing them here keeps them off the busy-wait path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

from panel.store.sqlite import Store

T = TypeVar("T")
DEFAULT_READERS = 8
# Concurrent writers: one on SQLite (a single-writer database), a few on PostgreSQL.
SQLITE_WRITERS = 1
POSTGRES_WRITERS = 4


class StorePool:
    """Run a function of the store in a worker thread, with that thread's own connection."""

    def __init__(self, store: Store, readers: int = DEFAULT_READERS) -> None:
        self.template = store
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()
        writers = SQLITE_WRITERS if store.dialect == "sqlite" else POSTGRES_WRITERS
        self._read = CapacityLimiter(readers)
        self._write = CapacityLimiter(writers)

    def _store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is not None and store.connection_lost():  # the database server went away
            self._forget(store)
            store = None
        if store is None:
            store = self.template.another()
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def _forget(self, store: Store) -> None:
        self._local.store = None
        with self._lock:
            if store in self._opened:
                self._opened.remove(store)
        with suppress(Exception):
            store.close()

    def _call(self, fn: Callable[[Store], T]) -> T:
        """`fn` on this thread's store; once more on a new connection when the first call lost
        it (a database restart): a page read, or a vote (an upsert), may be done twice."""
        store = self._store()
        try:
            return fn(store)
        except Exception:
            if not store.connection_lost():
                raise
        return fn(self._store())

    async def read(self, fn: Callable[[Store], T]) -> T:
        return await anyio.to_thread.run_sync(lambda: self._call(fn), limiter=self._read)

    async def write(self, fn: Callable[[Store], T]) -> T:
        return await anyio.to_thread.run_sync(lambda: self._call(fn), limiter=self._write)

    def close(self) -> None:
        """Close the connections the workers opened (best effort: their threads may be gone);
        the store the pool was given is its owner's to close."""
        with self._lock:
            opened, self._opened = self._opened, []
        for store in opened:
            with suppress(Exception):
                store.close()
