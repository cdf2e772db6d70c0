"""Why a write failed, in one line a user can act on: a full disk, a file size limit, a read-only
file system, a directory panel may not write. One table for every command, so that `panel keys
set`, `panel vote` and a batch meeting the same full disk say the same thing (exit 2), never
"a bug in panel".

An `OSError` names its file; a SQLite error names none, so the data homes this process opened
for writing are remembered (`note_home`) and the latest one is named instead.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from panel.errors import PanelError

# What each kind of fault is called, and what to do about it. `{home}` is the advice to point the
# data home elsewhere, given only when the failed write was in a data home.
DISK_FULL = "the disk is full"
SIZE_LIMIT = "a file size limit is reached"
READ_ONLY = "it is on a read-only file system"
DENIED = "permission denied"
IO_ERROR = "the disk failed a write (full, over a size limit, or failing)"
AGAIN = "then run the same command again (what was already done is kept)"
TODO = {
    DISK_FULL: "free some space{home}, " + AGAIN,
    SIZE_LIMIT: "raise the limit (`ulimit -f`) or free some space{home}, " + AGAIN,
    IO_ERROR: "check the disk and free some space{home}, " + AGAIN,
    READ_ONLY: "use a writable directory{home}",
    DENIED: "fix its permissions or use a writable directory{home}",
}
HOME_ADVICE = {
    DISK_FULL: " or point --home (PANEL_HOME) at another disk",
    SIZE_LIMIT: "",
    IO_ERROR: " or point --home (PANEL_HOME) at another disk",
    READ_ONLY: " (--home or PANEL_HOME)",
    DENIED: " (--home or PANEL_HOME)",
}
ERRNOS = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EFBIG: SIZE_LIMIT,
    errno.EROFS: READ_ONLY,
    errno.EACCES: DENIED,
    errno.EPERM: DENIED,
}
# SQLite's primary result codes (the low byte of `sqlite_errorcode`).
SQLITE_CODES = {
    13: DISK_FULL,  # SQLITE_FULL
    8: READ_ONLY,  # SQLITE_READONLY
    3: DENIED,  # SQLITE_PERM
    14: DENIED,  # SQLITE_CANTOPEN: the database file or its directory cannot be created
    10: IO_ERROR,  # SQLITE_IOERR: a write() refused (EFBIG, EIO, ...) below SQLite
}
# PostgreSQL: the server's disk is full, or the database is read-only (a standby).
SQLSTATES = {"53100": DISK_FULL, "25006": READ_ONLY}

_homes: list[str] = []


class StorageFault(PanelError):
    """A write the disk or the system refused: what it was, and what to do, in one line."""

    exit_code = 2


def note_home(where: Path | str) -> None:
    """Remember a data home opened for writing: what a SQLite fault message names."""
    _homes.append(str(where))


def storage_fault(exc: BaseException, *, where: str | None = None) -> StorageFault | None:
    """The one-line fault `exc` (or an exception it groups or was raised from) stands for, or
    None when it is no write fault. `where` names the place when the error names no file."""
    for inner in _chain(exc):
        fault = _describe(inner, where if where is not None else _homes[-1] if _homes else None)
        if fault is not None:
            return fault
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc`, then what it groups (a task group's failures), then what it was raised from."""
    out: list[BaseException] = [exc]
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            out.extend(_chain(inner))
    if exc.__cause__ is not None:
        out.extend(_chain(exc.__cause__))
    return out


def _describe(exc: BaseException, where: str | None) -> StorageFault | None:
    if isinstance(exc, OSError) and exc.errno in ERRNOS:
        kind = ERRNOS[exc.errno]
        reason = exc.strerror or str(exc)
        target = f"{exc.filename}" if exc.filename is not None else f"in {where or 'the data home'}"
        in_home = exc.filename is None or _in_a_home(str(exc.filename))
    elif isinstance(exc, sqlite3.Error) and _sqlite_code(exc) in SQLITE_CODES:
        kind = SQLITE_CODES[_sqlite_code(exc)]
        reason, target, in_home = str(exc), f"in {where or 'the data home'}", True
    elif getattr(exc, "sqlstate", None) in SQLSTATES:
        kind = SQLSTATES[exc.sqlstate]  # type: ignore[attr-defined]
        reason = (str(exc).strip().splitlines() or [""])[0]
        target, in_home = "to the shared database", False
    else:
        return None
    todo = TODO[kind].format(home=HOME_ADVICE[kind] if in_home else "")
    return StorageFault(f"cannot write {target}: {kind} ({reason}); {todo}")


def _sqlite_code(exc: sqlite3.Error) -> int:
    """The primary result code; an error raised by hand (not by SQLite) has none."""
    return int(getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def _in_a_home(path: str) -> bool:
    return any(path == home or path.startswith(home.rstrip("/") + "/") for home in _homes)
