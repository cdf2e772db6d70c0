"""`panel batch`'s entry point: open or continue a job, run it live or through Message Batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from panel.api.client import Client
from panel.api.registry import Registry
from panel.api.scheduler import Scheduler
from panel.batch.backlog import BacklogRow
from panel.batch.context import Context, Options, first_leaf, summary
from panel.batch.jobs import Jobs
from panel.batch.live import run_live
from panel.batch.messages import run_batches
from panel.config import Settings
from panel.errors import PanelError
from panel.judge.personas import Persona
from panel.judge.prompts import Prompts
from panel.store.sqlite import Store


def needs_api(store: Store, job_id: str, rows: Sequence[BacklogRow], *, retry_failed: bool) -> bool:
    """Whether running the job again would call the API: False for a finished job, whose summary
    (`panel batch --json` after the end) then needs no key."""
    jobs = Jobs(store)
    if jobs.get(job_id) is None:
        return True
    slugs = {r.slug for r in rows}
    items = jobs.items(job_id, list(slugs))
    redo = (
        ("pending", "running", "submitted", "failed")
        if retry_failed
        else ("pending", "running", "submitted")
    )
    return (
        len(items) < len(slugs)
        or any(i.state in redo for i in items)
        or bool(jobs.open_batches(job_id))
        or bool(jobs.intents(job_id))
    )


class _NoCalls:
    """Stands in for the SDK when a job has nothing left to do: any use of it is a bug."""

    def __getattr__(self, name: str) -> Any:
        raise PanelError(f"a finished job tried to call the API ({name}); this is a bug in panel")


def no_calls() -> Client:
    """A client that needs no key and refuses every call."""
    return Client(sdk=cast(Any, _NoCalls()))


async def run_job(
    rows: Sequence[BacklogRow],
    backlog: Path,
    *,
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    store: Store,
    options: Options,
    job_id: str,
    client: Client,
    endpoint: str,
    on_change: Callable[[Context], None] = lambda ctx: None,
) -> dict[str, Any]:
    """Open (or continue) the job, review what is left, and return its summary."""
    jobs = Jobs(store)
    jobs.open(job_id, backlog, rows, via=options.via, model=settings.model)
    jobs.resume(job_id, retry_failed=options.retry_failed)
    ctx = Context(
        settings=settings,
        personas=personas,
        prompts=prompts,
        store=store,
        jobs=jobs,
        client=client,
        registry=Registry(store, client, endpoint, inline=options.inline_documents),
        scheduler=Scheduler(options.limits),
        job_id=job_id,
        options=options,
    )
    ctx_changed = lambda: on_change(ctx)  # noqa: E731
    try:
        if options.via == "batches":
            outcome = await run_batches(ctx, rows, ctx_changed)
        else:
            outcome = await run_live(ctx, rows, ctx_changed)
    except ExceptionGroup as group:  # a task's PanelError (a refused key) is one line, not a trace
        first = first_leaf(group)
        raise first if isinstance(first, PanelError) else group from None
    counts = jobs.counts(job_id)
    if outcome.status == "complete" and counts.get("failed"):
        outcome.status = "failed"
    jobs.finish(job_id, outcome.status)
    return summary(ctx, outcome, rows)
