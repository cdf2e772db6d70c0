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
        if store is None:
            store = self.template.another()
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    async def read(self, fn: Callable[[Store], T]) -> T:
        return await anyio.to_thread.run_sync(lambda: fn(self._store()), limiter=self._read)

    async def write(self, fn: Callable[[Store], T]) -> T:
        return await anyio.to_thread.run_sync(lambda: fn(self._store()), limiter=self._write)

    def close(self) -> None:
        """Close the connections the workers opened (best effort: their threads may be gone);
        the store the pool was given is its owner's to close."""
        with self._lock:
            opened, self._opened = self._opened, []
        for store in opened:
            with suppress(Exception):
                store.close()
