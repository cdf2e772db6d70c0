"""`panel batch --via batches`: the panel's calls through the Message Batches API, at half price.

Three steps, each safe to interrupt:

1. submit: every pending tool's documents are uploaded (once, through the registry), its persona and
   card requests built exactly as live calls are, and sent in batches of at most 100,000 requests
   or 256 MB. Each batch id is written to the store in the transaction that marks its tools
   `submitted`, right after the API returns it.
2. poll: open batches are polled until they end; results, which come in any order, are mapped
   back by custom_id and stored as they are, before anything is done with them. With the `warm`
   cache choice (the default) the first batch carries one persona per tool, whose request writes
   the documents' cache entry; the other personas go in a second batch that reads it.
3. finish: each tool's results are validated like live replies (with the same repair turn);
   expired, canceled and transiently errored requests are redone live through the scheduler and
   counted. The run is saved and the tool marked done in one transaction.

A rerun polls the batches already created instead of submitting the same work again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from panel.api.client import Batches
from panel.api.results import ResultsIncomplete
from panel.batch.backlog import BacklogRow
from panel.batch.context import Budget, Context, Listener, Outcome, todo
from panel.batch.items import Item
from panel.batch.requests import chunks, prepare, round_one, second_round
from panel.batch.results import classify, finish_item
from panel.errors import ConfigError, PanelError

# How far the API's clock may be behind ours when matching a batch to an interrupted create.
ORPHAN_CLOCK_SKEW = timedelta(minutes=2)

UPLOADS_AT_ONCE = 8


async def submit(ctx: Context, items: Sequence[Item], outcome: Outcome) -> None:
    """Build and send the first-round requests of every pending tool the budget allows."""
    budget = Budget(ctx, batch=True)
    admitted = []
    for item in items:
        if not budget.admit(item.row):
            outcome.status = "budget"
            break
        admitted.append(item)
    release(ctx, items[len(admitted) :])
    personas, ttl = round_one(ctx)
    await send(ctx, [(item, personas, ttl, None) for item in admitted], outcome)


async def send(
    ctx: Context,
    work: Sequence[tuple[Item, Sequence[Any], str | None, str | None]],
    outcome: Outcome,
) -> None:
    """Upload, build and submit (item, personas, cache TTL, run_id) in as few batches as fit."""
    uploads = asyncio.Semaphore(UPLOADS_AT_ONCE)

    async def one(
        item: Item, personas: Sequence[Any], ttl: str | None, run_id: str | None
    ) -> list[dict[str, Any]]:
        try:
            return await prepare(ctx, item, uploads, personas, ttl, run_id=run_id)
        except ConfigError:
            raise
        except PanelError as exc:
            ctx.jobs.set_state(ctx.job_id, item.slug, "failed", error=str(exc))
            return []

    prepared = await asyncio.gather(*(one(*w) for w in work))
    requests = [r for group in prepared for r in group]
    api = Batches(ctx.registry.client)
    for chunk in chunks(requests):
        intent = ctx.jobs.record_intent(ctx.job_id, chunk)
        batch_id = await api.create(
            [{"custom_id": r["custom_id"], "params": r["params"]} for r in chunk]
        )
        # At once, replacing the intent: a rerun must find the batch, never submit it again.
        ctx.jobs.record_batch(ctx.job_id, batch_id, chunk, replaces=intent)
        outcome.notes.append(f"submitted batch {batch_id} with {len(chunk)} requests")


async def adopt_orphans(ctx: Context, outcome: Outcome) -> None:
    """Creates that a crash cut off before their id was recorded: find each batch on the server
    (same request count, created since the create started) and adopt it, or, when the server has
    none, forget the intent so that its tools are submitted again."""
    intents = ctx.jobs.intents(ctx.job_id)
    if ctx.jobs.postgres:  # another worker's create may be in flight: only a dead worker's
        oldest = datetime.now(UTC) - timedelta(seconds=ctx.jobs.lease_s)
        intents = [i for i in intents if datetime.fromisoformat(i[1]) < oldest]
    if not intents:
        return
    api = Batches(ctx.registry.client)
    known = ctx.jobs.known_batches()
    for pending_id, started, requests in intents:
        since = datetime.fromisoformat(started) - ORPHAN_CLOCK_SKEW
        candidates = [
            b for b in await api.created_since(since) if b[0] not in known and b[1] == len(requests)
        ]
        if candidates:
            batch_id = candidates[0][0]
            known.add(batch_id)
            if ctx.jobs.record_batch(ctx.job_id, batch_id, requests, replaces=pending_id):
                outcome.notes.append(f"adopted batch {batch_id}, created before an interruption")
        else:
            ctx.jobs.forget_intent(pending_id)


async def poll(ctx: Context, on_change: Listener, *, once: bool = False) -> None:
    """Wait for every open batch of the job to end, storing its results as soon as it does
    (`once`: look once, store what has ended, and leave the rest for a later run)."""
    api = Batches(ctx.registry.client)
    while True:
        open_ids = ctx.jobs.open_batches(ctx.job_id)
        if not open_ids:
            return
        for batch_id in open_ids:
            status, counts = await api.status(batch_id)
            ctx.processing[batch_id] = counts
            if status == "ended":
                try:
                    download = await api.results(batch_id, expected=sum(counts.values()))
                except ResultsIncomplete as exc:  # what arrived is kept; a later run reads on
                    ctx.jobs.keep_results([(r.custom_id, *classify(r)) for r in exc.partial])
                    raise
                stored = [(r.custom_id, *classify(r)) for r in download.results]
                ctx.jobs.collect_batch(batch_id, stored, unread="unreadable")
                ctx.processing.pop(batch_id, None)
        on_change()
        if once:
            return
        if ctx.jobs.open_batches(ctx.job_id):
            await asyncio.sleep(ctx.options.poll_s)


async def run_batches(ctx: Context, rows: Sequence[BacklogRow], on_change: Listener) -> Outcome:
    """Submit what is pending; then, as batches end, send each tool's next round or finish it.

    Several workers may share one job on the shared store: each step takes its items first
    (leased, `SKIP LOCKED`, the leases renewed while this worker holds them), so no tool is
    submitted or finished twice; any worker collects any of the job's batches; and a worker
    that runs out of work waits while others hold tools, which come back to it if they die."""
    outcome = Outcome()
    slugs = [r.slug for r in rows]
    shared = ctx.jobs.postgres
    todo(ctx, rows, outcome)  # counts the tools already done
    beat = asyncio.create_task(heartbeat(ctx)) if shared else None
    try:
        while True:
            if shared:  # a dead worker's tools: pending again, or submitted with their requests
                ctx.jobs.resume_shared(ctx.job_id, retry_failed=False)
            await adopt_orphans(ctx, outcome)
            pending = ctx.jobs.take_pending(ctx.job_id, slugs)
            if pending and outcome.status != "budget":
                await submit(ctx, pending, outcome)
                on_change()
            elif pending:  # the budget is spent: give back what was taken
                release(ctx, pending)
            await poll(ctx, on_change, once=not ctx.options.wait)
            ready = ctx.jobs.take_ended(ctx.job_id, slugs)
            rest = second_round(ctx, ready)
            if rest:
                await send(ctx, [(item, p, ttl, item.run_id) for item, p, ttl in rest], outcome)
                on_change()
            later = {item.slug for item, _, _ in rest}
            await finish_all(ctx, [i for i in ready if i.slug not in later], on_change)
            if not ctx.options.wait:
                break
            if rest or (pending and outcome.status != "budget"):
                continue  # new batches: wait for them
            if not (shared and others_at_work(ctx, slugs)):
                break
            await asyncio.sleep(min(ctx.options.poll_s, ctx.jobs.lease_s / 3))
    finally:
        if beat is not None:
            beat.cancel()
    if ctx.jobs.open_batches(ctx.job_id):  # --no-wait: the rest is collected by a later run
        outcome.status = "submitted"
    retried = ctx.jobs.retry_counts(ctx.job_id)
    if retried:
        outcome.notes.append(
            "redone live after the batch: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(retried.items()))
        )
    return outcome


def others_at_work(ctx: Context, slugs: Sequence[str]) -> bool:
    """Shared store: tools another worker holds, a create it may still be making, or batches
    still out: all may yet leave work for this worker."""
    return bool(
        ctx.jobs.leased_elsewhere(ctx.job_id, slugs)
        or ctx.jobs.intents(ctx.job_id)
        or ctx.jobs.open_batches(ctx.job_id)
    )


def release(ctx: Context, items: Sequence[Item]) -> None:
    """Give back tools this worker took but will not send (shared store; a no-op on SQLite)."""
    if ctx.jobs.postgres:
        for item in items:
            ctx.jobs.release(ctx.job_id, item.slug)


async def finish_all(ctx: Context, items: Sequence[Item], on_change: Listener) -> None:
    """Each item's run from its stored results, a few at a time (live redos go through the
    scheduler); a tool that cannot be finished is failed, not the job."""
    slots = asyncio.Semaphore(max(2, ctx.options.limits.concurrency))

    async def one(item: Item) -> None:
        async with slots:
            try:
                await finish_item(ctx, item)
            except ConfigError:
                raise
            except PanelError as exc:
                ctx.jobs.set_state(ctx.job_id, item.slug, "failed", error=str(exc))
            on_change()

    await asyncio.gather(*(one(i) for i in items))


async def heartbeat(ctx: Context) -> None:
    """Shared store: keep the leases on the items this worker holds while it works on them."""
    while True:
        await asyncio.sleep(ctx.jobs.lease_s / 3)
        ctx.jobs.heartbeat(ctx.job_id)
