"""One process per batch job: an advisory lock file under the data home's `.jobs/`.

Apart from the job tables: a lock is a file, not a row, and `panel jobs` asks about it without
opening a job.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from panel.errors import InputError
from panel.store.sqlite import Store


def lock_path(home: Path, job_id: str) -> Path:
    return home / ".jobs" / f"{job_id}.lock"


def locked(home: Path, job_id: str) -> bool:
    """Whether a `panel batch` process holds the job's lock (taking it for an instant if not;
    a lock file that does not exist is held by no one, and is not created by asking)."""
    try:
        fd = os.open(lock_path(home, job_id), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def exclusive(store: Store, job_id: str, *, shared: bool = False) -> Iterator[None]:
    """One process per job: a second `panel batch` of the same job stops instead of racing.

    `shared` (live, on the shared store): any number of workers, which lease items instead.
    """
    if shared:
        yield
        return
    path = lock_path(store.home, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"job {job_id} is already running in another process") from None
        yield
    finally:
        os.close(fd)
