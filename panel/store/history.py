"""A tool's runs over time: one entry per run and a score trend per persona, from records alone."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from panel.model.run import Run
from panel.model.verdict import Decision
from panel.store.diff import document_changes

BLOCKS = "▁▂▃▄▅▆▇█"
MISSING = "·"  # a failed or absent verdict in a trend: not a zero


class HistoryEntry(BaseModel):
    """One run as history shows it; documents are compared with the run before it."""

    run_id: str
    parent_run_id: str | None
    created_at: str
    model: str
    label: str
    mean_score: float | None
    scores: dict[str, int | None]
    decisions: dict[str, Decision | None]
    documents_added: list[str]
    documents_removed: list[str]
    documents_changed: list[str]


class History(BaseModel):
    """Every run of one tool, oldest first, and each persona's scores across them."""

    slug: str
    name: str
    runs: list[HistoryEntry]
    trend: dict[str, list[int | None]]


def sparkline(scores: Sequence[int | None]) -> str:
    """Scores on the absolute 0-100 scale as unicode blocks, so a flat line means flat scores."""
    return "".join(
        MISSING if s is None else BLOCKS[min(len(BLOCKS) - 1, s * len(BLOCKS) // 100)]
        for s in scores
    )


def entry(run: Run, before: Run | None) -> HistoryEntry:
    changes = document_changes(before.documents if before else [], run.documents)

    def named(status: str) -> list[str]:
        return [c.label for c in changes if c.status == status]

    return HistoryEntry(
        run_id=run.run_id,
        parent_run_id=run.parent_run_id,
        created_at=run.created_at,
        model=run.model,
        label=run.panel.label,
        mean_score=run.panel.mean_score,
        scores={v.persona: v.score for v in run.verdicts},
        decisions={v.persona: v.decision for v in run.verdicts},
        documents_added=named("added"),
        documents_removed=named("removed"),
        documents_changed=named("changed"),
    )


def history(runs: Sequence[Run]) -> History:
    """The history of one tool's runs (given oldest first); personas in order of appearance."""
    personas: list[str] = []
    for run in runs:
        personas += [v.persona for v in run.verdicts if v.persona not in personas]
    entries = [entry(run, runs[i - 1] if i else None) for i, run in enumerate(runs)]
    return History(
        slug=runs[-1].tool.slug,
        name=runs[-1].tool.name,
        runs=entries,
        trend={p: [e.scores.get(p) for e in entries] for p in personas},
    )
