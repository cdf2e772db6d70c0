"""What every tool of one batch job shares: options, context, budget, and the job's summary.

Every tool goes through the same pieces as `panel review` (sources -> uploads -> personas ->
decision -> record), sharing one registry (each unique document uploaded once across the
backlog), one scheduler (every persona call under the same limits) and one store. The job in
SQLite says what is done; running the same command again picks up what is not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from panel.api.client import Client
from panel.api.registry import Registry
from panel.api.scheduler import Limits, Scheduler
from panel.batch.backlog import BacklogRow
from panel.batch.items import Item
from panel.batch.jobs import Jobs
from panel.config import DEFAULT_CARD_MAX_TOKENS, Settings
from panel.judge.personas import Persona
from panel.judge.pricing import cost, estimate_tokens
from panel.judge.prompts import Prompts
from panel.judge.review import Request, load_documents
from panel.model.verdict import Usage
from panel.sources.documents import Document
from panel.store.sqlite import Store

Via = Literal["live", "batches"]
# A URL's page when estimating a budget before it is fetched: a long-ish product page.
URL_CHARS_GUESS = 20_000


# How `--via batches` uses the prompt cache (see panel.batch.messages): measured cheapest first.
BatchCache = Literal["warm", "none", "5m", "1h"]
BATCH_CACHES: tuple[str, ...] = get_args(BatchCache)
DEFAULT_BATCH_CACHE: BatchCache = "warm"


@dataclass
class Options:
    via: Via = "live"
    limits: Limits = field(default_factory=Limits)
    max_cost: float | None = None
    retry_failed: bool = False
    poll_s: float = 5.0
    wait: bool = True  # batches: False submits, collects what has ended, and returns
    inline_documents: bool = False  # documents as text blocks: a server without a Files API
    batch_cache: BatchCache = DEFAULT_BATCH_CACHE  # batches: how requests use the prompt cache


@dataclass
class Context:
    """What every tool of one job shares."""

    settings: Settings
    personas: Sequence[Persona]
    prompts: Prompts
    store: Store
    jobs: Jobs
    client: Client  # SDK retries off: panel.api.retry is the one retry layer
    registry: Registry
    scheduler: Scheduler
    job_id: str
    options: Options
    processing: dict[str, dict[str, int]] = field(default_factory=dict)  # open batches' counts


@dataclass
class Outcome:
    """What one invocation did; the job's totals come from SQLite."""

    status: Literal["complete", "budget", "failed", "submitted"] = "complete"
    started: float = field(default_factory=time.monotonic)
    reviewed: int = 0
    failed: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


Listener = Callable[[], None]


def documents_for(ctx: Context, row: BacklogRow) -> Request:
    return Request(
        sources=row.sources, description=row.description, name=row.name, job_id=ctx.job_id
    )


async def load_row(ctx: Context, row: BacklogRow) -> list[Document]:
    """A row's documents; a URL is fetched in a thread (with its own SQLite connection)."""
    request = documents_for(ctx, row)
    if not row.url:
        return load_documents(request, ctx.settings, ctx.store)

    def fetch() -> list[Document]:
        store = ctx.store.another()
        try:
            return load_documents(request, ctx.settings, store)
        finally:
            store.close()

    return await asyncio.to_thread(fetch)


def guess_cost(ctx: Context, row: BacklogRow, *, batch: bool) -> float:
    """A rough cost of one tool before anything is sent: no caching, a third of max_tokens."""
    chars = len(ctx.prompts.render("system")) + len(row.description or "")
    chars += URL_CHARS_GUESS if row.url else 0
    pdf = 0
    for f in row.files:
        size = Path(f).stat().st_size if Path(f).exists() else 0
        if f.lower().endswith(".pdf"):
            pdf += size
        else:
            chars += size
    prompt = estimate_tokens(chars, pdf) + 200
    calls = len(ctx.personas)
    persona = cost(
        ctx.settings.model,
        Usage(input_tokens=prompt * calls, output_tokens=ctx.settings.max_tokens // 3 * calls),
        batch=batch,
    )
    card = cost(
        ctx.settings.card_model,
        Usage(input_tokens=prompt, output_tokens=DEFAULT_CARD_MAX_TOKENS // 3),
        batch=batch,
    )
    return (persona or 0.0) + (card or 0.0)


class Budget:
    """`--max-cost`: a tool starts only if what is spent, what is in flight and its own estimate
    stay within the budget. Once tools have finished, their mean cost is the estimate."""

    def __init__(self, ctx: Context, *, batch: bool) -> None:
        self.ctx = ctx
        self.batch = batch
        self.limit = ctx.options.max_cost
        self.reserved: dict[str, float] = {}

    def estimate(self, row: BacklogRow) -> float:
        mean = self.ctx.jobs.mean_cost(self.ctx.job_id)
        return mean if mean is not None else guess_cost(self.ctx, row, batch=self.batch)

    def admit(self, row: BacklogRow) -> bool:
        if self.limit is None:
            return True
        spent, _ = self.ctx.jobs.spent(self.ctx.job_id)
        need = self.estimate(row)
        if spent + sum(self.reserved.values()) + need > self.limit:
            return False
        self.reserved[row.slug] = need
        return True

    def release(self, slug: str) -> None:
        self.reserved.pop(slug, None)


def todo(ctx: Context, rows: Sequence[BacklogRow], outcome: Outcome) -> list[Item]:
    """The items of this backlog still to review, in backlog order."""
    items = ctx.jobs.items(ctx.job_id, [r.slug for r in rows])
    outcome.skipped = sum(1 for i in items if i.state == "done")
    return [i for i in items if i.state == "pending"]


def first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    inner = group.exceptions[0]
    return first_leaf(inner) if isinstance(inner, BaseExceptionGroup) else inner


def snapshot(ctx: Context) -> dict[str, float]:
    """What the progress bar shows: the job's counts, tokens and spend, and what sits in batches."""
    snap = ctx.jobs.snapshot(ctx.job_id)
    for kind in ("processing", "succeeded", "errored"):  # the API's request counts, open batches
        snap[f"batch_{kind}"] = float(sum(c.get(kind, 0) for c in ctx.processing.values()))
    return snap


def summary(ctx: Context, outcome: Outcome, rows: Sequence[BacklogRow]) -> dict[str, Any]:
    """The job as `--json` prints it: counts, spend, the leaderboard and what failed."""
    jobs, job_id = ctx.jobs, ctx.job_id
    items = jobs.items(job_id, [r.slug for r in rows])
    counts = {s: sum(1 for i in items if i.state == s) for s in ("done", "failed", "pending")}
    counts["pending"] += sum(1 for i in items if i.state in ("running", "submitted"))
    spent = sum(i.cost_usd or 0.0 for i in items)
    tokens = sum(i.tokens for i in items)
    board = leaderboard_rows(ctx.store, jobs, job_id, rows)
    elapsed = time.monotonic() - outcome.started
    return {
        "job_id": job_id,
        "status": outcome.status,
        "via": ctx.options.via,
        "tools": len(items),
        "counts": counts,
        "skipped_already_done": outcome.skipped,
        "cost_usd": round(spent, 6),
        "tokens": tokens,
        "elapsed_s": round(elapsed, 3),
        "uploads": ctx.registry.uploads,
        "rate_limited": ctx.scheduler.rate_limited,
        "retried_calls": ctx.scheduler.retried,
        "peak_in_flight": ctx.scheduler.peak_in_flight,
        "limits_learned": ctx.scheduler.learned(),
        "batches": jobs.batch_count(job_id),
        "batch_retries": jobs.retry_counts(job_id),
        "leaderboard": board,
        "failed": [
            {"name": i.name, "slug": i.slug, "error": i.error} for i in items if i.state == "failed"
        ],
        "notes": outcome.notes,
    }


def leaderboard_rows(
    store: Store, jobs: Jobs, job_id: str, rows: Sequence[BacklogRow]
) -> list[dict[str, Any]]:
    """Tools with a run, best mean score first (no score last), then by name; each says whether
    its panel suspected prompt injection."""
    wanted = {r.slug for r in rows}
    board = [
        {
            "name": r["name"],
            "slug": r["slug"],
            "decision": r["decision"],
            "label": r["label"],
            "mean_score": r["mean_score"],
            "run_id": r["run_id"],
            "injection_suspected": store.injection_suspected(r["run_id"]),
        }
        for r in jobs.runs(job_id)
        if r["slug"] in wanted
    ]
    board.sort(
        key=lambda b: (b["mean_score"] is None, -(b["mean_score"] or 0.0), b["name"].lower())
    )
    return board
