"""Run records on disk: the atomic write, the fallback copy, and the errors that name a record.

Apart from the index so that every store (SQLite, PostgreSQL) and the commands that write pages and
exports share one way of writing a file whole and one way of saying which record is bad.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from panel.errors import InputError, PanelError
from panel.model.run import Run


class RecordNotSaved(PanelError):
    """A finished run whose record could not be written (a full disk, a read-only home).

    The run is paid for: the caller shows it before anything else, and `fallback` names a copy
    written to the temporary directory when that was possible.
    """

    exit_code = 1

    def __init__(self, run: Run, home: Path | str, cause: BaseException) -> None:
        self.run = run
        self.fallback = _fallback_copy(run)
        where = (
            f"a copy is at {self.fallback}"
            if self.fallback
            else "the JSON on stdout is the only copy"
        )
        reason = getattr(cause, "strerror", None) or str(cause)
        super().__init__(f"run {run.run_id} could not be recorded in {home} ({reason}); {where}")


class BadRecord(InputError):
    """An indexed run whose JSON record is missing or unreadable: named, so a user can act."""

    def __init__(self, run_id: str, path: Path | str, reason: str, *, kind: str = "run") -> None:
        self.run_id = run_id
        super().__init__(f"{kind} {run_id}: record {path} is {reason}")


def _fallback_copy(run: Run) -> Path | None:
    """The run's JSON in the temporary directory (mode 0600), or None if that fails too."""
    path = Path(tempfile.gettempdir()) / f"panel-run-{run.run_id}.json"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(run.model_dump_json(indent=2) + "\n")
    except OSError:
        path.unlink(missing_ok=True)
        return None
    return path


def new_run_id() -> str:
    """Sortable by time, unique without coordination: `20261125T130501-3f9a2c`."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def write_atomic(path: Path, text: str | bytes, *, shared: bool = False) -> None:
    """Write `text` so that `path` is either the old file or the whole new one, even after a crash.

    The file is private (0600, a temporary file's mode) unless `shared`: a page or an export the
    user will publish gets the umask's usual mode, as any file they write would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if shared:
        tmp = str(path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    else:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def invalid_record(exc: ValidationError) -> str:
    """Why a record is not a run, in a few words: its first bad field (a score of 1000, say)."""
    first = exc.errors()[0]
    if first["type"] == "json_invalid" or not first["loc"]:
        return "not a run record"
    where = ".".join(str(p) for p in first["loc"])
    return f"not a run record ({where}: {first['msg']})"


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
