"""Issue 20: a full disk or a home panel may not write is one line saying what to do, exit 2."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from panel.store.faults import StorageFault, storage_fault


def sqlite_full() -> sqlite3.Error:
    """A real SQLITE_FULL: a database capped at two pages, filled past them."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (x)")
    db.execute("PRAGMA max_page_count = 2")
    try:
        for _ in range(100):
            db.execute("INSERT INTO t VALUES (?)", ("x" * 2000,))
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("the capped database never filled")


def sqlite_readonly(tmp_path: Path) -> sqlite3.Error:
    """A real SQLITE_READONLY: a write on a connection opened read-only."""
    path = tmp_path / "ro.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        db.execute("INSERT INTO t VALUES (1)")
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("a read-only connection accepted a write")


@pytest.mark.parametrize(
    ("code", "what", "todo"),
    [
        (errno.ENOSPC, "the disk is full", "free some space"),
        (errno.EDQUOT, "the disk is full", "free some space"),
        (errno.EFBIG, "a file size limit is reached", "raise the limit"),
        (errno.EROFS, "read-only file system", "writable directory"),
        (errno.EACCES, "permission denied", "writable directory"),
        (errno.EPERM, "permission denied", "writable directory"),
    ],
)
def test_an_os_error_names_the_path_the_fault_and_what_to_do(
    code: int, what: str, todo: str
) -> None:
    """Each write errno is one line naming the file, the fault and the fix, exit 2."""
    fault = storage_fault(OSError(code, "Injected", "/data/home/acme/r1.json"))
    assert isinstance(fault, StorageFault) and fault.exit_code == 2
    message = str(fault)
    assert message.startswith("cannot write /data/home/acme/r1.json: ")
    assert what in message and todo in message and "\n" not in message


def test_an_os_error_without_a_file_names_the_data_home() -> None:
    """A failed write() carries no file name: the message names the data home instead."""
    fault = storage_fault(OSError(errno.ENOSPC, "No space left on device"), where="/data/home")
    assert fault is not None
    assert str(fault).startswith("cannot write in /data/home: the disk is full")


def test_sqlite_full_is_a_full_disk() -> None:
    """SQLITE_FULL (SQLite's own ENOSPC) reads like ENOSPC, naming the data home."""
    fault = storage_fault(sqlite_full(), where="/data/home")
    assert fault is not None
    assert str(fault).startswith("cannot write in /data/home: the disk is full")
    assert "database or disk is full" in str(fault)


def test_sqlite_readonly_is_a_read_only_home(tmp_path: Path) -> None:
    """SQLITE_READONLY says the data home cannot be written, and where to point instead."""
    fault = storage_fault(sqlite_readonly(tmp_path), where="/data/home")
    assert fault is not None
    assert "cannot write in /data/home" in str(fault) and "--home" in str(fault)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("nope"),
        OSError(errno.ECONNREFUSED, "Connection refused"),
        FileNotFoundError(errno.ENOENT, "No such file or directory", "/x"),
        sqlite3.OperationalError("no such table: runs"),
    ],
)
def test_other_errors_are_not_storage_faults(exc: BaseException) -> None:
    """Only write faults are mapped: anything else keeps its own handling."""
    assert storage_fault(exc, where="/data/home") is None


def test_a_fault_inside_an_exception_group_is_found() -> None:
    """A batch's task group wraps the fault: it is still found and reported as itself."""
    group = ExceptionGroup("tasks", [ValueError("x"), OSError(errno.ENOSPC, "No space", "/h/f")])
    fault = storage_fault(group)
    assert fault is not None and str(fault).startswith("cannot write /h/f: the disk is full")
