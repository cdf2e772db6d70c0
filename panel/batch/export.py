"""`panel export JOB --csv FILE|-` or `--json`: each tool of a batch job as one row, from its runs."""

from __future__ import annotations

import csv
from typing import TextIO

from panel.batch.jobs import Jobs
from panel.errors import InputError
from panel.model.run import Run
from panel.store.sqlite import Store

COLUMNS = [
    "name",
    "slug",
    "state",
    "decision",
    "label",
    "mean_score",
    "ship",
    "skip",
    "failed_verdicts",
    "run_id",
    "cost_usd",
    "error",
    "injection_suspected",  # true when a persona saw a document try to instruct the panel
    # from the tool card (empty when the card call failed)
    "category",
    "tagline",
    "pricing",
    "best_for",
]


def export_rows(store: Store, job_id: str) -> tuple[list[str], list[dict[str, object]]]:
    """The job's tools in backlog order, each a row keyed by the header; per persona a score and
    a decision column."""
    jobs = Jobs(store)
    known_ids = [row["job_id"] for row in jobs.overview()]  # a home read-only before any job
    if job_id not in known_ids:
        known = ", ".join(known_ids) or "none"
        raise InputError(f"no job {job_id!r} in {store.home} (jobs: {known})")
    items = jobs.items(job_id)
    runs: dict[str, Run] = {
        i.slug: store.load_run(i.run_id)
        for i in items
        if i.run_id and i.state in ("done", "failed") and _indexed(store, i.run_id)
    }
    personas: list[str] = []
    for stored in runs.values():
        for verdict in stored.verdicts:
            if verdict.persona not in personas:
                personas.append(verdict.persona)
    header = COLUMNS + [f"{p}_{k}" for p in personas for k in ("score", "decision")]
    rows: list[dict[str, object]] = []
    for item in items:
        run = runs.get(item.slug)
        row: list[object] = [item.name, item.slug, item.state]
        if run is None:
            row += ["", "", "", "", "", "", "", "", item.error or "", "", "", "", "", ""]
            row += [""] * (2 * len(personas))
        else:
            p = run.panel
            card = run.tool.card
            row += [
                p.decision,
                p.label,
                "" if p.mean_score is None else p.mean_score,
                p.ship,
                p.skip,
                p.failed,
                run.run_id,
                "" if run.cost_usd is None else run.cost_usd,
                item.error or "",
                str(any(v.injection_suspected for v in run.verdicts)).lower(),
            ]
            row += (
                ["", "", "", ""]
                if card is None
                else [card.category, card.tagline, card.pricing_summary, card.best_for]
            )
            verdicts = {v.persona: v for v in run.verdicts}
            for persona in personas:
                v = verdicts.get(persona)
                row += (
                    ["", ""]
                    if v is None
                    else ["" if v.score is None else v.score, v.decision or v.status]
                )
        rows.append(dict(zip(header, row, strict=True)))
    return header, rows


def write_csv(fh: TextIO, header: list[str], rows: list[dict[str, object]]) -> None:
    """The rows as CSV, every cell safe to open in a spreadsheet."""
    writer = csv.writer(fh)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(row[column]) for column in header])


def cell(value: object) -> object:
    """A value as a spreadsheet will read it: text starting like a formula (`=`, `+`, `-`, `@`,
    tab, CR) gets a leading apostrophe, so a hostile tool name never runs as one."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _indexed(store: Store, run_id: str) -> bool:
    return store.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None
