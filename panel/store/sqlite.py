"""Storage: an SQLite index (runs, the file registry, URL fetches) beside one JSON record per run.

The JSON record is the truth; SQLite is the index that makes lookups fast and keeps the file_id
registry. Records are written atomically (temp file, fsync, rename) and never contain the API key.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from panel.errors import InputError, PanelError
from panel.model.run import Run
from panel.model.votes import Votes
from panel.sources.documents import slugify
from panel.sources.names import name_key, previous_slugs
from panel.store.connection import Connection, SchemaTooNew
from panel.store.damage import DamagedIndex, check_index, is_damage
from panel.store.faults import note_home

DB_NAME = "panel.db"
# The schema this panel writes; a data home recorded by a newer one is refused, not guessed at.
SCHEMA_VERSION = 1
# A verdict's flag set, in a record's JSON (keys are never escaped there, whatever the text says).
_SUSPECTED = re.compile(rb'"injection_suspected"\s*:\s*true')
# How many candidates an ambiguous run-id prefix lists.
AMBIGUOUS_SHOWN = 5
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    decision TEXT NOT NULL,
    label TEXT NOT NULL,
    mean_score REAL,
    parent_run_id TEXT,
    job_id TEXT,
    path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_slug ON runs (slug, created_at);
CREATE TABLE IF NOT EXISTS files (
    endpoint TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    mime TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (endpoint, sha256)
);
CREATE TABLE IF NOT EXISTS fetches (
    url TEXT PRIMARY KEY,
    final_url TEXT NOT NULL,
    status INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    sha256 TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS upload_claims (
    endpoint TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (endpoint, sha256)
);
CREATE TABLE IF NOT EXISTS votes (
    slug TEXT NOT NULL,
    voter TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('ship', 'skip')),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (slug, voter)
);
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);
"""


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

    def __init__(self, run_id: str, path: Path | str, reason: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id}: record {path} is {reason}")


def claim_owner() -> str:
    """Who holds a claim: host and pid (so a dead process on this host is seen at once) and a
    unique part (so two registries in one process are two owners)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _alive(owner: str) -> bool:
    """False only when the owner ran on this host and its process is gone."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; a WAL database in a directory we cannot write opens immutable."""
    for mode in ("mode=ro", "immutable=1"):
        db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            db.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
        except sqlite3.OperationalError as exc:
            db.close()
            if "no such table" in str(exc):
                raise InputError(f"{path}: not a panel database") from None
            continue
        return db
    raise InputError(f"{path}: cannot be opened for reading")


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


class ToolRow(BaseModel):
    """A tool as `panel list` shows it: its latest run, and how many runs it has."""

    slug: str
    name: str
    label: str
    decision: str
    mean_score: float | None
    created_at: str
    run_id: str
    runs: int
    injection_suspected: bool = False  # a persona of the latest run saw a document instruct it


def new_run_id() -> str:
    """Sortable by time, unique without coordination: `20261125T130501-3f9a2c`."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` so that `path` is either the old file or the whole new one, even after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
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


class Store:
    """The data home: `panel.db` plus `<slug>/<run_id>.json` records.

    The storage interface: `panel.store.postgres.PgStore` keeps the same methods over a shared
    PostgreSQL database; `panel.store.open` picks one. Where only the SQL or the place of a record
    differs, PgStore overrides a class attribute or a `_` hook below, not the method.
    """

    db: Connection
    dialect = "sqlite"
    # What PgStore spells differently. The column that numbers the runs in the order they were
    # indexed (created_at has whole seconds: ties go by it).
    _seq = "rowid"
    # The index row of a run; its last column is what `_put_record` returned.
    _insert_run = "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    # What a failed `save_run` raises: writing the record's file, or indexing it.
    _write_errors: tuple[type[Exception], ...] = (OSError, sqlite3.Error)
    # Upserts: the row under the key is replaced by the new one.
    _upsert_vote = "INSERT OR REPLACE INTO votes VALUES (?,?,?,?)"
    _upsert_file = "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?)"
    _upsert_fetch = "INSERT OR REPLACE INTO fetches VALUES (?,?,?,?,?,?,?,?)"

    def __init__(self, home: Path, *, readonly: bool = False) -> None:
        self.home = home
        self.where = str(home)  # how messages name the store
        self.readonly = readonly
        check_index(home / DB_NAME)
        try:
            self._open(home, readonly)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise DamagedIndex(home / DB_NAME, str(exc)) from None
            raise

    def _open(self, home: Path, readonly: bool) -> None:
        if readonly:
            self.db = _connect_readonly(home / DB_NAME)
            self._check_version()
            return
        note_home(home)  # what a SQLite write fault, which names no file, is reported against
        home.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(home / DB_NAME, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        self.db = db
        self._check_version()
        db.execute(
            "INSERT INTO schema_version SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
            (SCHEMA_VERSION, datetime.now(UTC).isoformat(timespec="seconds")),
        )

    def _check_version(self) -> None:
        try:
            row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError:  # a read-only home from before versions existed
            return
        if row[0] is not None and row[0] > SCHEMA_VERSION:
            self.db.close()
            raise SchemaTooNew(self.where, row[0], SCHEMA_VERSION)

    def schema_version(self) -> int:
        row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def another(self) -> Store:
        """A second connection to the same store, for another thread."""
        return Store(self.home, readonly=self.readonly)

    @classmethod
    def existing(cls, home: Path, *, writable: bool = False) -> Store:
        """The store of a data home that has runs. Reading never creates a data home, and opens
        the database read-only (a shared, mounted home): no migration, no new file."""
        if not (home / DB_NAME).exists():
            raise InputError(f"no runs in {home} yet; start with `panel review FILE|URL`")
        return cls(home, readonly=not writable)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # runs ---------------------------------------------------------------------------------------

    def record_path(self, run: Run) -> Path:
        return self.home / run.tool.slug / f"{run.run_id}.json"

    def save_run(
        self,
        run: Run,
        *,
        also: Callable[[Connection], None] | None = None,
        name_check: bool = True,
    ) -> Path:
        """Write the record, then index it: an indexed run always has its whole record on disk
        (or, in a shared database, in its index row: written in the same transaction).

        `also` runs inside the indexing transaction (a batch marks its item done there), so a
        kill at any moment leaves both or neither. `name_check=False` files a run recorded
        elsewhere as it was recorded (`panel sync`): its name was checked where it was made.
        """
        # a name the user chose; a card's name joins its slug's tool
        if name_check and run.tool.name_given:
            self.check_name(run.tool.slug, run.tool.name)
        path = self.record_path(run)
        try:
            self._index(run, self._put_record(run, path), also)
        except self._write_errors as exc:
            raise RecordNotSaved(run, self.where, exc) from exc
        return path

    def _put_record(self, run: Run, path: Path) -> str:
        """Write the JSON record where this store keeps it; returns what its index row holds."""
        write_atomic(path, run.model_dump_json(indent=2) + "\n")
        return str(path.relative_to(self.home))

    def _index(self, run: Run, record: str, also: Callable[[Connection], None] | None) -> None:
        with self.transaction() as db:
            if also is not None:
                also(db)
            db.execute(
                self._insert_run,
                (
                    run.run_id,
                    run.tool.slug,
                    run.tool.name,
                    run.created_at,
                    run.model,
                    run.panel.decision,
                    run.panel.label,
                    run.panel.mean_score,
                    run.parent_run_id,
                    run.job_id,
                    record,
                ),
            )

    def load_run(self, run_id: str) -> Run:
        row = self.db.execute("SELECT path FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise InputError(f"no run {run_id!r} in {self.where}")
        path = self.home / row["path"]
        try:
            return Run.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadRecord(run_id, path, "missing") from None
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            reason = invalid_record(exc) if isinstance(exc, ValidationError) else str(exc)
            raise BadRecord(run_id, path, reason) from None

    def readable_runs(self, run_ids: Iterable[str], problems: list[str]) -> list[Run]:
        """The runs whose records can be read; each one that cannot is named in `problems`."""
        runs = []
        for run_id in run_ids:
            try:
                runs.append(self.load_run(run_id))
            except BadRecord as exc:
                problems.append(str(exc))
        return runs

    def run_ids(self, slug: str) -> list[str]:
        rows = self.db.execute(
            # created_at has whole seconds: ties go to the order the runs were recorded in
            f"SELECT run_id FROM runs WHERE slug = ? ORDER BY created_at, {self._seq}",
            (slug,),
        ).fetchall()
        return [r["run_id"] for r in rows]

    def all_run_ids(self) -> list[str]:
        """Every run id, in the order the runs were made (recorded, for ties)."""
        rows = self.db.execute(
            f"SELECT run_id FROM runs ORDER BY created_at, {self._seq}"
        ).fetchall()
        return [r["run_id"] for r in rows]

    def latest_run_id(self, slug: str) -> str | None:
        ids = self.run_ids(slug)
        return ids[-1] if ids else None

    def has_run(self, run_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row is not None

    def slug_of(self, tool: str) -> str | None:
        """The stored slug a TOOL argument names: the slug itself, or a name slugified.

        A name is also looked up under the slug the older rule gave it (`C++` was `c`), but only
        when a run there bears that name, so `C++` never finds the runs of C.
        """
        keys = [tool]
        with suppress(InputError):  # nothing to slugify: only the literal argument can match
            keys.append(slugify(tool))
        found = next((key for key in keys if self.run_ids(key)), None)
        if found is None:  # under an older rule's slug (`C++` was `c`, `Café` was `caf`)
            found = next(
                (s for s in previous_slugs(tool) if same_name(tool, self.names_of(s))), None
            )
        return found

    def names_of(self, slug: str) -> list[str]:
        """Every name the runs under a slug were recorded with, oldest first."""
        rows = self.db.execute(
            f"""SELECT name FROM runs WHERE slug = ? GROUP BY name
                ORDER BY MIN(created_at), MIN({self._seq})""",
            (slug,),
        ).fetchall()
        return [r["name"] for r in rows]

    def check_name(self, slug: str, name: str) -> None:
        """A slug keys one tool: a name given for it must be a name its runs already have.

        `Node.js` and `Node JS` share `node-js`; the second is refused rather than filed with the
        first. Case and spacing do not count (`acme cli` is `Acme CLI`), and a rerun passes the
        name it was recorded with.
        """
        names = self.names_of(slug)
        if names and not same_name(name, names):
            raise InputError(
                f"--name {name!r}: its key {slug!r} is already the tool {names[0]!r}; "
                f"pass --name {names[0]!r} to review that tool again, or a name that differs "
                "in more than punctuation for a new tool"
            )

    def run_for(self, ref: str) -> Run:
        """A run named any way a user names one; an unknown or ambiguous one is a one-line error.

        In order: a whole run id; a tool's name or slug (its latest run); `TOOL~N`, the run N
        before the latest (as git's `HEAD~1`); a unique prefix of a run id.
        """
        return self.load_run(self.run_id_for(ref))

    def run_id_for(self, ref: str) -> str:
        if self.has_run(ref):
            return ref
        if self.slug_of(ref) is not None:
            return self.runs_of(ref)[-1]
        tool, tilde, back = ref.rpartition("~")
        if tilde and tool and back.isdigit() and self.slug_of(tool) is not None:
            ids = self.runs_of(tool)
            if int(back) >= len(ids):
                raise InputError(
                    f"{ref!r}: {tool!r} has {len(ids)} run(s), so ~{len(ids) - 1} is the oldest"
                )
            return ids[-1 - int(back)]
        matches = self.run_ids_starting(ref)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            shown = ", ".join(matches[:AMBIGUOUS_SHOWN]) + (
                ", ..." if len(matches) > AMBIGUOUS_SHOWN else ""
            )
            raise InputError(
                f"{ref!r} is the start of {len(matches)} run ids ({shown}); give more of one"
            )
        raise InputError(
            f"no run or tool {ref!r} in {self.where}; give a tool's name or slug (`panel list`), "
            "TOOL~1 for its run before the latest, or a run id or its start (`panel history TOOL`)"
        )

    def run_ids_starting(self, prefix: str) -> list[str]:
        """Run ids that begin with `prefix`, oldest first."""
        if not prefix:
            return []
        rows = self.db.execute(
            "SELECT run_id FROM runs WHERE substr(run_id, 1, ?) = ? ORDER BY created_at, rowid",
            (len(prefix), prefix),
        ).fetchall()
        return [r["run_id"] for r in rows]

    def runs_of(self, tool: str) -> list[str]:
        """The run ids of a TOOL argument, oldest first; an unknown tool is a one-line error."""
        slug = self.slug_of(tool)
        if slug is None:
            raise InputError(
                f"no runs of {tool!r} in {self.where}; see `panel list` for the tools reviewed"
            )
        return self.run_ids(slug)

    def tools(self) -> list[Any]:
        """Each tool's latest run, newest first."""
        return self.db.execute(
            """SELECT r.* FROM runs r
               WHERE r.rowid = (SELECT rowid FROM runs WHERE slug = r.slug
                                ORDER BY created_at DESC, rowid DESC LIMIT 1)
               ORDER BY r.created_at DESC, r.rowid DESC"""
        ).fetchall()

    def tool_rows(self) -> list[ToolRow]:
        """Each tool's latest run with its run count, most recently reviewed first."""
        counts = self.db.execute("SELECT slug, COUNT(*) AS n FROM runs GROUP BY slug").fetchall()
        runs = {r["slug"]: r["n"] for r in counts}
        return [
            ToolRow(
                slug=r["slug"],
                name=r["name"],
                label=r["label"],
                decision=r["decision"],
                mean_score=r["mean_score"],
                created_at=r["created_at"],
                run_id=r["run_id"],
                runs=runs[r["slug"]],
                injection_suspected=self.injection_suspected(r["run_id"]),
            )
            for r in self.tools()
        ]

    def injection_suspected(self, run_id: str) -> bool:
        """Whether a persona of the run reported a document that tried to instruct the panel.

        Read from the JSON record (the index has no column for it, so older data homes need no
        migration); an unreadable record says nothing, and `show` names its problem.
        """
        row = self.db.execute("SELECT path FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        try:  # most records say no in their text: only a `true` is worth parsing the record for
            if row is None or not _SUSPECTED.search((self.home / row["path"]).read_bytes()):
                return False
            run = self.load_run(run_id)
        except (OSError, BadRecord):
            return False
        return any(v.injection_suspected for v in run.verdicts)

    # community votes --------------------------------------------------------------------------

    def set_vote(self, slug: str, voter: str, decision: Literal["ship", "skip"]) -> None:
        """One vote per voter per tool: voting again changes it."""
        with self.transaction() as db:
            db.execute(
                self._upsert_vote,
                (slug, voter, decision, datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def clear_vote(self, slug: str, voter: str) -> bool:
        """Remove a voter's vote; False when there was none."""
        with self.transaction() as db:
            cur = db.execute("DELETE FROM votes WHERE slug = ? AND voter = ?", (slug, voter))
        return cur.rowcount > 0

    def votes(self, slug: str) -> Votes:
        try:
            rows = self.db.execute(
                "SELECT decision, COUNT(*) AS n FROM votes WHERE slug = ? GROUP BY decision",
                (slug,),
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only home from before votes existed
            return Votes()
        return Votes(**{r["decision"]: r["n"] for r in rows})

    def vote_of(self, slug: str, voter: str) -> str | None:
        """One voter's vote on a tool (`ship` or `skip`), or None."""
        row = self.db.execute(
            "SELECT decision FROM votes WHERE slug = ? AND voter = ?", (slug, voter)
        ).fetchone()
        return str(row["decision"]) if row else None

    # the file registry --------------------------------------------------------------------------

    def file_id(self, endpoint: str, sha256: str) -> str | None:
        row = self.db.execute(
            "SELECT file_id FROM files WHERE endpoint = ? AND sha256 = ?", (endpoint, sha256)
        ).fetchone()
        return row["file_id"] if row else None

    def remember_file(
        self, endpoint: str, sha256: str, file_id: str, filename: str, mime: str, size: int
    ) -> None:
        with self.transaction() as db:
            db.execute(
                self._upsert_file,
                (endpoint, sha256, file_id, filename, mime, size, datetime.now(UTC).isoformat()),
            )

    def claim_upload(self, endpoint: str, sha256: str, owner: str, lease_s: float) -> str:
        """Claim the upload of one content for `lease_s` seconds.

        Returns "busy" while another live process holds it, "claimed" when it was free, and
        "taken_over" when a dead or expired claim was replaced: that upload may have reached the
        server, so the caller looks for it before uploading again.
        """
        now = time.time()
        with self.transaction() as db:
            row = db.execute(
                "SELECT owner, expires_at FROM upload_claims WHERE endpoint = ? AND sha256 = ?",
                (endpoint, sha256),
            ).fetchone()
            held = row is not None and row["owner"] != owner
            if held and row["expires_at"] > now and _alive(row["owner"]):
                return "busy"
            db.execute(
                "INSERT OR REPLACE INTO upload_claims VALUES (?,?,?,?)",
                (endpoint, sha256, owner, now + lease_s),
            )
        return "claimed" if row is None or row["owner"] == owner else "taken_over"

    def release_upload(self, endpoint: str, sha256: str, owner: str) -> None:
        with self.transaction() as db:
            db.execute(
                "DELETE FROM upload_claims WHERE endpoint = ? AND sha256 = ? AND owner = ?",
                (endpoint, sha256, owner),
            )

    # URL fetches and the extracted text of each page ------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.home / "blobs" / sha256[:2] / sha256

    def blob(self, sha256: str) -> bytes | None:
        """A fetched page's extracted bytes, kept so that a 304 rebuilds the same document."""
        try:
            return self.blob_path(sha256).read_bytes()
        except OSError:
            return None

    def keep_blob(self, sha256: str, data: bytes) -> None:
        """Keep the bytes under their SHA-256: a file in the data home, written once."""
        path = self.blob_path(sha256)
        if not path.exists():
            write_atomic(path, data)

    def last_fetch(self, url: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM fetches WHERE url = ?", (url,)).fetchone()
        return dict(row) if row else None

    def remember_fetch(self, info: dict[str, Any], document_json: str) -> None:
        with self.transaction() as db:
            db.execute(
                self._upsert_fetch,
                (
                    info["url"],
                    info["final_url"],
                    info["status"],
                    info.get("etag"),
                    info.get("last_modified"),
                    info["sha256"],
                    info["fetched_at"],
                    document_json,
                ),
            )


def invalid_record(exc: ValidationError) -> str:
    """Why a record is not a run, in a few words: its first bad field (a score of 1000, say)."""
    first = exc.errors()[0]
    if first["type"] == "json_invalid" or not first["loc"]:
        return "not a run record"
    where = ".".join(str(p) for p in first["loc"])
    return f"not a run record ({where}: {first['msg']})"


def same_name(name: str, names: list[str]) -> bool:
    """Whether `name` is one of `names`, ignoring case, runs of whitespace and the Unicode form
    (NFC or NFD)."""
    return name_key(name) in {name_key(n) for n in names}


def legacy_slug(name: str) -> str:
    """The slug `name` had before `+`, `#` and non-ASCII names were told apart (`C++` was `c`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
