"""`panel sync`: copy what one store has and another lacks, so a person's runs join the team's.

Runs (record and index row, with their run ids and `created_at`), votes, the file registry (per API
endpoint, so the team reuses the uploads) and fetch records with their page copies (blobs, so a
304 rebuilds the document there) go from the source to the target. What
the target already has is kept as it is: a run by its id, the rest by primary key. Copying twice
copies nothing the second time, and an interrupted copy is finished by running it again. Upload
claims and batch jobs are not copied: they belong to the work in progress where they were made.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from pydantic import BaseModel, Field

from panel.store.connection import redact_endpoint
from panel.store.records import BadRecord, RecordNotSaved
from panel.store.sqlite import Store

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
    votes: Counts = Field(default_factory=Counts)
    files: Counts = Field(default_factory=Counts)
    fetches: Counts = Field(default_factory=Counts)
    blobs: Counts = Field(default_factory=Counts)  # fetched pages' extracted text
    problems: list[str] = Field(default_factory=list)  # runs whose records could not be copied

    def counts(self) -> dict[str, Counts]:
        return {
            "runs": self.runs,
            "votes": self.votes,
            "files": self.files,
            "fetches": self.fetches,
            "blobs": self.blobs,
        }

    @property
    def copied(self) -> int:
        return sum(c.copied for c in self.counts().values())


def sync_stores(source: Store, target: Store) -> SyncReport:
    """Copy into `target` every run, vote, file registry row and fetch record of `source` that it
    lacks; the source is only read."""
    report = SyncReport(source=source.where, target=target.where)
    copy_runs(source, target, report)
    for table, (columns, key) in TABLES.items():
        copy_rows(source, target, table, columns, key, getattr(report, table))
    copy_blobs(source, target, report.blobs)
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
        except RecordNotSaved:
            if not target.has_run(run_id):  # not a run another process copied meanwhile
                raise
            report.runs.already += 1
            continue
        there.add(run_id)
        report.runs.copied += 1


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
