"""`panel export JOB --csv FILE`: each tool of a batch job as one spreadsheet row, from its runs."""

from __future__ import annotations

import csv
from pathlib import Path

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
]


def export_csv(store: Store, job_id: str, path: Path) -> int:
    """Write the job's tools in backlog order; per persona a score and a decision column."""
    jobs = Jobs(store)
    if jobs.get(job_id) is None:
        known = ", ".join(jobs.job_ids()) or "none"
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
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for item in items:
            run = runs.get(item.slug)
            row: list[object] = [item.name, item.slug, item.state]
            if run is None:
                row += ["", "", "", "", "", "", "", "", item.error or "", ""]
                row += [""] * (2 * len(personas))
            else:
                p = run.panel
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
                verdicts = {v.persona: v for v in run.verdicts}
                for persona in personas:
                    v = verdicts.get(persona)
                    row += (
                        ["", ""]
                        if v is None
                        else [
                            "" if v.score is None else v.score,
                            v.decision or v.status,
                        ]
                    )
            writer.writerow([cell(value) for value in row])
    return len(items)


def cell(value: object) -> object:
    """A value as a spreadsheet will read it: text starting like a formula (`=`, `+`, `-`, `@`,
    tab, CR) gets a leading apostrophe, so a hostile tool name never runs as one."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _indexed(store: Store, run_id: str) -> bool:
    return store.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None
