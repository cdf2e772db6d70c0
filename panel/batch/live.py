"""Live mode: every pending tool of a job through `review`, under the job's shared scheduler."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from panel.batch.backlog import BacklogRow
from panel.batch.context import Budget, Context, Listener, Outcome, documents_for, load_row, todo
from panel.batch.jobs import Item
from panel.errors import ConfigError, PanelError
from panel.judge.review import review


async def review_item(ctx: Context, item: Item, priority: int) -> None:
    """One tool, live; the item ends done or failed, or stays running if the process dies."""
    ctx.jobs.set_state(ctx.job_id, item.slug, "running")
    try:
        docs = await load_row(ctx, item.row)
        await review(
            documents_for(ctx, item.row),
            settings=ctx.settings,
            personas=ctx.personas,
            prompts=ctx.prompts,
            client=ctx.client,
            store=ctx.store,
            endpoint=ctx.registry.endpoint,
            docs=docs,
            registry=ctx.registry,
            scheduler=ctx.scheduler,
            priority=priority,
            also=ctx.jobs.mark_run(ctx.job_id),
        )
    except ConfigError:
        raise  # a bad key or setup stops the whole job; the item is redone next time
    except PanelError as exc:
        ctx.jobs.set_state(ctx.job_id, item.slug, "failed", error=str(exc))


async def run_live(
    ctx: Context, rows: Sequence[BacklogRow], on_change: Listener = lambda: None
) -> Outcome:
    """Review every pending tool of the job under the shared scheduler."""
    outcome = Outcome()
    items = todo(ctx, rows, outcome)
    budget = Budget(ctx, batch=False)
    # Enough tools in progress to keep every slot busy while their personas wait for each other.
    slots = asyncio.Semaphore(max(2, ctx.options.limits.concurrency))
    finished = asyncio.Event()

    async def one(item: Item, priority: int) -> None:
        try:
            await review_item(ctx, item, priority)
        finally:
            budget.release(item.slug)
            slots.release()
            finished.set()
            on_change()

    async with asyncio.TaskGroup() as group:
        for item in items:
            await slots.acquire()
            # Over budget with tools in flight: wait for them, their real cost may leave room.
            while not budget.admit(item.row) and budget.reserved:
                finished.clear()
                await finished.wait()
            if item.slug not in budget.reserved and budget.limit is not None:
                slots.release()
                outcome.status = "budget"
                break
            group.create_task(one(item, item.position))
            on_change()
    return outcome
