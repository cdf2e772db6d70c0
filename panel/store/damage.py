"""A damaged SQLite index (`panel.db`): told apart from a new one before anything writes to it.

A zero-length, truncated or overwritten `panel.db` must never be quietly re-created: the runs it
indexed would vanish from every command although their JSON records are on disk. Opening one is
refused in one line that names `panel db reindex`, which rebuilds the index from the records.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from panel.errors import InputError

# The first bytes of every SQLite 3 database file.
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100
# What sqlite reports for a file that is not a database, or one whose pages do not add up.
DAMAGE_ERRORS = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})


class DamagedIndex(InputError):
    """The data home's index cannot be trusted; its run records can rebuild it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        super().__init__(
            f"{path}: the run index is damaged ({reason}); "
            "`panel db reindex` rebuilds it from the run records (the damaged file is kept aside)"
        )


def is_damage(exc: BaseException) -> bool:
    """Whether an sqlite error says the file is not (or no longer) a whole database."""
    return isinstance(exc, sqlite3.DatabaseError) and (
        getattr(exc, "sqlite_errorname", "") in DAMAGE_ERRORS
    )


def has_records(home: Path) -> bool:
    """Whether the data home holds run records (`<slug>/<run_id>.json`)."""
    return any(home.glob("*/*.json"))


def damage_of(path: Path) -> str | None:
    """What is wrong with the index file at `path`, or None when it looks whole (or is absent).

    Cheap checks on the header, before sqlite reads it: a zero-length file where records exist
    (a new home has no records yet, and a concurrent first open may briefly see zero bytes), a
    file that does not start as a database, and one shorter than its header says with no
    write-ahead log that could hold the rest.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.read(HEADER_BYTES)
    except FileNotFoundError:
        return None
    except OSError:  # unreadable: sqlite will say so in its own words
        return None
    if size == 0:
        return "it is empty" if has_records(path.parent) else None
    if len(header) < HEADER_BYTES or not header.startswith(SQLITE_MAGIC):
        return "it is not an SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid_for = header[92:96] == header[24:28]  # the in-header size is current
    wal = path.with_name(path.name + "-wal")
    live_wal = wal.exists() and wal.stat().st_size > 0
    if valid_for and pages and not live_wal and size < pages * page_size:
        return f"it is truncated: {size} bytes of {pages * page_size}"
    return None


def check_index(path: Path) -> None:
    """Refuse a damaged index in one line (see `damage_of`)."""
    reason = damage_of(path)
    if reason is not None:
        raise DamagedIndex(path, reason)
