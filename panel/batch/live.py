"""Live mode: every pending tool of a job through `review`, under the job's shared scheduler.

On the shared store several workers (processes, machines) run one job: each claims one item at a
time with a lease it renews while it works, so a killed worker's items go to the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from panel.batch.backlog import BacklogRow
from panel.batch.context import Budget, Context, Listener, Outcome, documents_for, load_row, todo
from panel.batch.items import Item
from panel.batch.jobs import LeaseLost
from panel.errors import ConfigError, PanelError
from panel.judge.review import review


async def review_item(ctx: Context, item: Item, priority: int, *, claimed: bool = False) -> None:
    """One tool, live; the item ends done or failed, or stays running if the process dies."""
    if not claimed:
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
    except LeaseLost:
        pass  # this worker stalled past its lease: the tool is another's, and its run counts
    except PanelError as exc:
        ctx.jobs.set_state(ctx.job_id, item.slug, "failed", error=str(exc))


async def run_live(
    ctx: Context, rows: Sequence[BacklogRow], on_change: Listener = lambda: None
) -> Outcome:
    """Review every pending tool of the job under the shared scheduler."""
    if ctx.jobs.postgres:
        return await run_shared(ctx, rows, on_change)
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


async def run_shared(ctx: Context, rows: Sequence[BacklogRow], on_change: Listener) -> Outcome:
    """One worker of a shared job: claim, review, repeat, until no item is left to anyone."""
    jobs, job_id = ctx.jobs, ctx.job_id
    outcome = Outcome()
    todo(ctx, rows, outcome)  # counts what was done before this worker started
    slugs = [r.slug for r in rows]
    budget = Budget(ctx, batch=False)
    slots = asyncio.Semaphore(max(2, ctx.options.limits.concurrency))

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(jobs.lease_s / 3)
            jobs.heartbeat(job_id)

    async def next_item() -> Item | None:
        """Claim one; while others hold live leases, wait: their worker may die."""
        while True:
            item = jobs.claim(job_id, slugs)
            if item is not None or not jobs.leased_elsewhere(job_id, slugs):
                return item
            await asyncio.sleep(min(1.0, jobs.lease_s / 3))

    async def one(item: Item) -> None:
        try:
            await review_item(ctx, item, item.position, claimed=True)
        finally:
            budget.release(item.slug)
            slots.release()
            on_change()

    beat = asyncio.create_task(heartbeat())
    try:
        async with asyncio.TaskGroup() as group:
            while True:
                await slots.acquire()
                item = await next_item()
                if item is None:
                    slots.release()
                    break
                if not budget.admit(item.row):
                    jobs.release(job_id, item.slug)
                    slots.release()
                    outcome.status = "budget"
                    break
                group.create_task(one(item))
                on_change()
    finally:
        beat.cancel()
    return outcome
