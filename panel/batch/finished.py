"""Which tools of a job finished since the last look: what a log of `panel batch` names, one
line a tool, so that it says which tool failed and why.

Each look reads only the items updated since the previous one (`updated_at`, whole seconds, so
the last second is read again and told apart by what was already seen). The first look, made
before the job runs, only marks what finished before as seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from panel.batch.jobs import Jobs


@dataclass(frozen=True)
class FinishedTool:
    name: str
    state: str  # done | failed
    label: str | None  # the run's label (`Ship · 3 ship / 1 skip`), when it has a run
    cost_usd: float | None
    error: str | None


class FinishedTools:
    """The tools of one job that finished since the previous call of `new`."""

    def __init__(self) -> None:
        self.since = ""  # the newest `updated_at` read (ISO 8601 sorts as text)
        self.seen: set[tuple[object, ...]] = set()
        self.primed = False

    def new(self, jobs: Jobs, job_id: str) -> list[FinishedTool]:
        rows = jobs.db.execute(
            """SELECT i.slug, i.name, i.state, i.run_id, i.error, i.cost_usd, i.updated_at,
                 i.attempts, r.label FROM job_items i LEFT JOIN runs r ON r.run_id = i.run_id
               WHERE i.job_id = ? AND i.state IN ('done', 'failed') AND i.updated_at >= ?
               ORDER BY i.updated_at, i.position""",
            (job_id, self.since),
        ).fetchall()
        out = []
        for r in rows:
            # one finish of one tool: a retried tool finishes again with another attempt or time
            key = tuple(
                r[k] for k in ("slug", "state", "run_id", "error", "attempts", "updated_at")
            )
            self.since = max(self.since, r["updated_at"] or "")
            if key in self.seen:
                continue
            self.seen.add(key)
            if self.primed:
                out.append(
                    FinishedTool(r["name"], r["state"], r["label"], r["cost_usd"], r["error"])
                )
        self.primed = True
        return out
