"""`panel sync`: copy what one store has and another lacks, so a person's runs join the team's.

Runs (record and index row, with their run ids and `created_at`), pairwise comparisons (the same,
by pair id), votes, the file registry (per API endpoint, so the team reuses the uploads) and fetch
records with their page copies (blobs, so a 304 rebuilds the document there) go from the source to
the target. What the target already has is kept as it is: a run or a comparison by its id, the
rest by primary key. Copying twice copies nothing the second time, and an interrupted copy is
finished by running it again. Upload claims and batch jobs are not copied: they belong to the work
in progress where they were made.

Newsletter subscribers are personal data, given to one site under one promise: a sync that moved
them by default would put every reader's address wherever a teammate syncs to (and, with
`--reverse`, onto each teammate's laptop), and a list in two stores is mailed twice. So they are
copied only when asked (`subscribers=True`, `panel sync --subscribers`: moving a site's list to the
store it will be served from), and then only what the target needs to mail the way the source
would: confirmed subscribers, with their ids (so the unsubscribe links already mailed keep working
there) and dates; never a pending address (no consent yet) nor an unsubscribed one. An unsubscribe
made in the source is applied to the target's row of the same id, so leaving wins on a later sync;
a subscriber the target has by id or address keeps the target's state. The digest log of the
subscribers the target has comes too, so the target does not mail a digest they already got.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from panel.errors import PanelError
from panel.store import digest_log
from panel.store.connection import redact_endpoint
from panel.store.damage import DamagedIndex, is_damage
from panel.store.digest_log import DigestLog
from panel.store.faults import storage_fault
from panel.store.pairs import PairwiseNotSaved, load_pairwise, pair_ids, save_pairwise
from panel.store.records import BadRecord, RecordNotSaved
from panel.store.sqlite import DB_NAME, Store
from panel.store.subscribers import Subscribers

# Each table copied row by row: its columns, and the primary key that says "already there".
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "votes": (("slug", "voter", "decision", "voted_at"), ("slug", "voter")),
    "files": (
        ("endpoint", "sha256", "file_id", "filename", "mime", "size_bytes", "uploaded_at"),
        ("endpoint", "sha256"),
    ),
    "fetches": (
        (
            "url",
            "final_url",
            "status",
            "etag",
            "last_modified",
            "sha256",
            "fetched_at",
            "document",
        ),
        ("url",),
    ),
}


class Counts(BaseModel):
    copied: int = 0
    already: int = 0  # in the target before: left as the target has it


class SyncReport(BaseModel):
    """What one sync did, per kind of record."""

    source: str
    target: str
    runs: Counts = Field(default_factory=Counts)
    pairwise: Counts = Field(default_factory=Counts)  # `panel compare --judge` verdicts
    votes: Counts = Field(default_factory=Counts)
    files: Counts = Field(default_factory=Counts)
    fetches: Counts = Field(default_factory=Counts)
    blobs: Counts = Field(default_factory=Counts)  # fetched pages' extracted text
    # Only with `subscribers=True` (else None): confirmed subscribers, unsubscribes applied to the
    # target's rows, and the digest log of the subscribers the target has.
    subscribers: Counts | None = None
    unsubscribes: Counts | None = None
    digest_sends: Counts | None = None
    # Without it: how many confirmed subscribers the source has that were left where they are.
    subscribers_not_copied: int = 0
    problems: list[str] = Field(default_factory=list)  # records that could not be copied

    def counts(self) -> dict[str, Counts]:
        kinds = {
            "runs": self.runs,
            "pairwise": self.pairwise,
            "votes": self.votes,
            "files": self.files,
            "fetches": self.fetches,
            "blobs": self.blobs,
            "subscribers": self.subscribers,
            "unsubscribes": self.unsubscribes,
            "digest_sends": self.digest_sends,
        }
        return {kind: counts for kind, counts in kinds.items() if counts is not None}

    @property
    def copied(self) -> int:
        return sum(c.copied for c in self.counts().values())


class SyncStopped(PanelError):
    """A store failed mid-copy (a connection lost, a write refused): what was copied is kept,
    and the next sync copies the rest."""

    exit_code = 1


def sync_stores(source: Store, target: Store, *, subscribers: bool = False) -> SyncReport:
    """Copy into `target` every run, comparison, vote, file registry row and fetch record of
    `source` that it lacks, and with `subscribers` the confirmed subscribers (see above); the
    source is only read.

    A store failing midway is a SyncStopped naming it (a DamagedIndex for an SQLite file found
    damaged past its header); a write fault (a full disk) is left to say what it is."""
    errors = tuple({*source._write_errors, *target._write_errors})
    try:
        return _sync(source, target, subscribers)
    except PanelError:
        raise
    except errors as exc:
        if storage_fault(exc) is not None:
            raise
        raise _stopped(exc, source, target) from exc


def _stopped(exc: BaseException, source: Store, target: Store) -> PanelError:
    """What to say of a store error met mid-copy: which store, and what now."""
    if is_damage(exc):
        for store in (source, target):
            if damaged(store):  # the error names no file: SQLite's own check tells which
                return DamagedIndex(store.home / DB_NAME, str(exc))
    lost = [s for s in (target, source) if s.connection_lost()]
    where = lost[0].where if lost else f"{source.where} -> {target.where}"
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return SyncStopped(
        f"sync stopped: {where} failed mid-copy ({reason}); what was copied is kept: "
        "run `panel sync` again to copy the rest"
    )


def damaged(store: Store) -> bool:
    """Whether SQLite's quick check finds a data home's database damaged (never a database
    server's)."""
    if store.dialect != "sqlite":
        return False
    try:
        rows = store.db.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError:
        return True
    return not rows or str(rows[0][0]) != "ok"


def _sync(source: Store, target: Store, subscribers: bool) -> SyncReport:
    report = SyncReport(source=source.where, target=target.where)
    copy_runs(source, target, report)
    copy_pairwise(source, target, report)
    for table, (columns, key) in TABLES.items():
        copy_rows(source, target, table, columns, key, getattr(report, table))
    copy_blobs(source, target, report.blobs)
    if subscribers:
        copy_subscribers(source, target, report)
    else:
        report.subscribers_not_copied = Subscribers(source).counts().get("confirmed", 0)
    return report


def copy_runs(source: Store, target: Store, report: SyncReport) -> None:
    """Each missing run, oldest first (so ties keep their order), one transaction each.

    A run is filed as it was recorded, its name unchecked: it was checked where it was made. A
    record the source cannot read is named in `report.problems` and left out.
    """
    there = {r["run_id"] for r in target.db.execute("SELECT run_id FROM runs").fetchall()}
    for run_id in source.all_run_ids():
        if run_id in there:
            report.runs.already += 1
            continue
        try:
            run = source.load_run(run_id)
        except BadRecord as exc:
            report.problems.append(str(exc))
            continue
        try:
            target.save_run(run, name_check=False)
        except RecordNotSaved as exc:
            try:
                there_now = target.has_run(run_id)  # a run another process copied meanwhile
            except target._write_errors:  # the target is gone: what made the save fail says why
                raise exc.__cause__ or exc from None
            if not there_now:
                raise
            report.runs.already += 1
            continue
        there.add(run_id)
        report.runs.copied += 1


def copy_pairwise(source: Store, target: Store, report: SyncReport) -> None:
    """Each missing comparison, oldest first, record and index row, as it was recorded; one the
    source cannot read is named in `report.problems` and left out."""
    there = set(pair_ids(target))
    for pair_id in pair_ids(source):
        if pair_id in there:
            report.pairwise.already += 1
            continue
        try:
            record = load_pairwise(source, pair_id)
        except BadRecord as exc:
            report.problems.append(str(exc))
            continue
        try:
            save_pairwise(target, record)
        except PairwiseNotSaved:
            if pair_id not in pair_ids(target):  # not one another process copied meanwhile
                raise
            report.pairwise.already += 1
            continue
        there.add(pair_id)
        report.pairwise.copied += 1


def copy_subscribers(source: Store, target: Store, report: SyncReport) -> None:
    """Unsubscribes first (to the target's rows of the same id), then the confirmed subscribers
    the target has neither by id nor by address, then the digest log of those the target has."""
    mine, theirs = Subscribers(source), Subscribers(target)
    report.unsubscribes = Counts()
    for gone in mine.unsubscribed():
        there = theirs.get(gone.id)
        if there is None:  # never copied: nothing to undo, and no address to carry
            continue
        if there.status == "unsubscribed":
            report.unsubscribes.already += 1
            continue
        left = datetime.fromisoformat(gone.unsubscribed_at or gone.created_at)
        theirs.unsubscribe(gone.id, now=left)
        report.unsubscribes.copied += 1
    report.subscribers = Counts()
    for subscriber in mine.confirmed():
        if theirs.adopt(subscriber):
            report.subscribers.copied += 1
        else:
            report.subscribers.already += 1
    report.digest_sends = Counts()
    DigestLog(target)  # its table, on SQLite
    known = {str(row[0]) for row in read_rows(target, "subscribers", ("id",))}
    rows = [r for r in read_rows(source, "digest_sends", digest_log.COLUMNS) if r[1] in known]
    insert_missing(
        target, "digest_sends", digest_log.COLUMNS, digest_log.KEY, rows, report.digest_sends
    )


def copy_rows(
    source: Store,
    target: Store,
    table: str,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    counts: Counts,
) -> None:
    """The rows of `table` whose key the target lacks, with their own dates, in one transaction."""
    rows = read_rows(source, table, columns)
    if table == "files":  # older registries keyed rows by the endpoint with its credentials
        rows = [(redact_endpoint(str(row[0])), *row[1:]) for row in rows]
    insert_missing(target, table, columns, key, rows, counts)


def insert_missing(
    target: Store,
    table: str,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    rows: list[tuple[object, ...]],
    counts: Counts,
) -> None:
    """Insert the `rows` whose key the target lacks; count them, and the others as already there."""
    there = {tuple(r) for r in read_rows(target, table, key)}
    where = [columns.index(k) for k in key]
    missing = []
    for row in rows:
        if (row_key := tuple(row[i] for i in where)) not in there:
            there.add(row_key)  # two source rows may redact to one key: the first is copied
            missing.append(row)
    counts.already += len(rows) - len(missing)
    if not missing:
        return
    marks = ", ".join("?" for _ in columns)
    with target.transaction() as db:  # DO NOTHING: a row another process added meanwhile stays
        cur = db.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            missing,
        )
    added = cur.rowcount if cur.rowcount is not None and cur.rowcount >= 0 else len(missing)
    counts.copied += added
    counts.already += len(missing) - added


def copy_blobs(source: Store, target: Store, counts: Counts) -> None:
    """The page copy of each fetch record the source has and the target lacks: without it the
    target's next fetch of the URL is unconditional."""
    wanted = set()
    for (document,) in read_rows(source, "fetches", ("document",)):
        try:
            wanted.add(str(json.loads(str(document))["sha256"]))
        except (KeyError, TypeError, ValueError):  # a record from before copies were kept
            continue
    for sha256 in sorted(wanted):
        if target.blob(sha256) is not None:
            counts.already += 1
        elif (data := source.blob(sha256)) is not None:
            target.keep_blob(sha256, data)
            counts.copied += 1


def read_rows(store: Store, table: str, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    try:
        rows = store.db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    except sqlite3.OperationalError:  # a read-only data home from before the table existed
        return []
    return [tuple(r[c] for c in columns) for r in rows]


def is_url(location: str) -> bool:
    """A store named by a URL (a database) rather than a path (a data home)."""
    return "://" in location


def same_location(a: str, b: str) -> bool:
    """Whether two stores, each a data home path or a postgresql:// URL, are one store."""
    if is_url(a) != is_url(b):
        return False
    if not is_url(a):
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    return _conninfo(a) == _conninfo(b)


def _conninfo(url: str) -> dict[str, str]:
    """A database URL as what names the database: no password, the default port spelled out."""
    from psycopg.conninfo import conninfo_to_dict  # psycopg only when a database is named

    try:
        info = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception:  # not parsable: the two are the same only if spelled the same
        return {"url": url}
    info.pop("password", None)
    info.setdefault("port", "5432")
    return info
