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
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from panel.api.client import Batches, Reply, validate_reply
from panel.api.results import ResultsIncomplete
from panel.batch.backlog import BacklogRow
from panel.batch.context import (
    Budget,
    Context,
    Listener,
    Outcome,
    documents_for,
    load_row,
    todo,
)
from panel.batch.items import Item
from panel.batch.lost import recover_lost
from panel.config import DEFAULT_CARD_MAX_TOKENS
from panel.errors import ConfigError, PanelError
from panel.judge.pricing import charge, cost
from panel.judge.review import build_run, tool_names
from panel.judge.session import (
    Session,
    extract_card,
    judge,
    persona_instruction,
    stored_card,
)
from panel.model.run import ModelUsage, RunUsage, Timings
from panel.model.verdict import ToolCard, Usage, Verdict, VerdictRecord, card_schema
from panel.store.records import new_run_id

# How far the API's clock may be behind ours when matching a batch to an interrupted create.
ORPHAN_CLOCK_SKEW = timedelta(minutes=2)

MAX_BATCH_REQUESTS = 100_000
MAX_BATCH_BYTES = 256 * 1024 * 1024 - 1024 * 1024  # a megabyte of room for the envelope
# How a job's batch requests use the prompt cache. A batch's requests run concurrently and in any
# order, so one request's cache write is not there for the others of the same batch:
#   none  no cache_control: every persona pays full input (at the batch discount);
#   5m/1h every request marks the documents: all pay a write (1.25x / 2x) that nobody reads;
#   warm  one persona per tool writes a 1-hour entry in a first batch, the others read it in a
#         second: one write and three reads, at the cost of a second batch's wait.
# `python bench/batch_bench.py --cache` measures the four on the fake; warm is the cheapest.
# (`BatchCache` and its default live in panel.batch.context, with the job's other options.)
WARM_TTL = "1h"
# A warm-up batch created longer ago than this may have entries near their hour: read nothing.
WARM_FRESH = timedelta(minutes=50)
# The card request's key among a tool's requests: no persona id starts with "_", so a persona
# may be called `card` (its custom_id ends `_p-card`, the card's `_card`).
CARD = "_card"
# Errors that a second try may fix; anything else (a bad request, a refused key) will not.
TRANSIENT_ERRORS = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}
UPLOADS_AT_ONCE = 8


def custom_id(run_id: str, persona: str) -> str:
    """`<run_id>_p-<persona>` (or `_card`): 1-64 characters of [A-Za-z0-9_-], unique per job."""
    tail = "card" if persona == CARD else "p-" + re.sub(r"[^A-Za-z0-9_-]", "-", persona)
    return f"{run_id}_{tail}"[:64]


def chunks(
    requests: Sequence[dict[str, Any]],
    *,
    max_requests: int = MAX_BATCH_REQUESTS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> list[list[dict[str, Any]]]:
    """Split requests into batches under both limits; one tool's requests stay together."""
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in requests:
        groups.setdefault(r["custom_id"].split("_", 1)[0], []).append(r)  # the run id
    for group in groups.values():
        group_size = sum(len(json.dumps(r)) + 2 for r in group)
        if current and (len(current) + len(group) > max_requests or size + group_size > max_bytes):
            out.append(current)
            current, size = [], 0
        current.extend(group)
        size += group_size
    if current:
        out.append(current)
    return out


def write_ttl(choice: str) -> Literal["5m", "1h"]:
    """The TTL a job's cache writes are priced at (a job with no writes prices none)."""
    return "5m" if choice == "5m" else "1h"


def session_for(ctx: Context, item: Item, docs: Sequence[Any], ttl: str | None = None) -> Session:
    """A tool's session; `ttl` marks the documents for the cache (None: no cache_control)."""
    name, _ = tool_names(documents_for(ctx, item.row), docs)
    return Session(
        ctx.client,
        ctx.registry,
        ctx.prompts,
        docs,
        name,
        ctx.prompts.render("system"),
        ctx.settings.max_tokens,
        scheduler=ctx.scheduler,
        priority=item.position,
        cache_ttl=ttl or WARM_TTL,
        cache_prefix=ttl is not None,
    )


def round_one(ctx: Context) -> tuple[list[Any], str | None]:
    """The personas a tool's first batch carries, and the TTL their documents are marked with."""
    choice = ctx.options.batch_cache
    if choice == "warm":
        return list(ctx.personas[:1]), WARM_TTL
    return list(ctx.personas), None if choice == "none" else choice


async def prepare(
    ctx: Context,
    item: Item,
    uploads: asyncio.Semaphore,
    personas: Sequence[Any],
    ttl: str | None,
    *,
    run_id: str | None = None,
) -> list[dict[str, Any]]:
    """A tool's requests, its documents uploaded first: one per persona given, and the card's in
    the first round (no `run_id` yet). The card's model reads no other call's cache: no mark."""
    docs = await load_row(ctx, item.row)
    async with uploads:
        await ctx.registry.ensure_all(docs)
    session = session_for(ctx, item, docs, ttl)
    first = run_id is None
    run_id = run_id or new_run_id()
    requests = []
    for persona in personas:
        instruction = persona_instruction(ctx.prompts, persona, session.tool_name)
        params = Batches.params(
            Verdict,
            model=ctx.settings.model,
            system=session.system_blocks(),
            messages=session.messages(instruction),
            max_tokens=ctx.settings.max_tokens,
        )
        requests.append(
            {
                "custom_id": custom_id(run_id, persona.id),
                "params": params,
                "slug": item.slug,
                "run_id": run_id,
                "persona": persona.id,
            }
        )
    if not first:
        return requests
    instruction = ctx.prompts.render("card", tool_name=session.tool_name)
    params = Batches.params(
        card_schema(),
        model=ctx.settings.card_model,
        system=session.system_blocks(),
        messages=session.messages(instruction, cache=False),
        max_tokens=DEFAULT_CARD_MAX_TOKENS,
    )
    requests.append(
        {
            "custom_id": custom_id(run_id, CARD),
            "params": params,
            "slug": item.slug,
            "run_id": run_id,
            "persona": CARD,
        }
    )
    return requests


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


def second_round(ctx: Context, items: Sequence[Item]) -> list[tuple[Item, list[Any], str | None]]:
    """Tools whose batches have all ended but which still lack personas (a warm-up round): those
    personas, marked to read the warm-up's entry if it wrote one recently enough to still hold."""
    out = []
    for item in items:
        assert item.run_id is not None
        rows = ctx.jobs.requests_of(ctx.job_id, item.slug, item.run_id)
        sent = {r["persona"] for r in rows}
        rest = [p for p in ctx.personas if p.id not in sent]
        if not rest or not sent - {CARD}:
            continue
        out.append((item, rest, WARM_TTL if warmed(ctx, rows) else None))
    return out


def warmed(ctx: Context, rows: Sequence[Any]) -> bool:
    """Whether a tool's warm-up request wrote (or read) the documents' entry within WARM_FRESH."""
    for row in rows:
        if row["persona"] == CARD or row["state"] != "succeeded" or not row["result"]:
            continue
        usage = json.loads(row["result"])["usage"]
        started = ctx.jobs.batch_created(row["batch_id"])
        fresh = started is not None and datetime.now(UTC) - started < WARM_FRESH
        if fresh and (usage["cache_creation_input_tokens"] or usage["cache_read_input_tokens"]):
            return True
    return False


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


def classify(result: Any) -> tuple[str, dict[str, Any]]:
    """(state, stored result): succeeded, retry (expired, canceled, transient error) or failed."""
    stored = {
        "type": result.kind,
        "text": result.text,
        "stop_reason": result.stop_reason,
        "usage": result.usage.model_dump(),
        "error_type": result.error_type,
        "error": result.error,
    }
    if result.kind == "succeeded":
        return "succeeded", stored
    if result.kind in ("expired", "canceled") or result.error_type in TRANSIENT_ERRORS:
        return "retry", stored
    if result.error_type == "not_found_error":  # a file gone since submission: live re-uploads it
        return "retry", stored
    return "failed", stored


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


def reply_of(stored: dict[str, Any], schema: type[Any]) -> Reply[Any]:
    parsed, error = validate_reply(schema, stored["text"], stored["stop_reason"])
    return Reply(parsed, stored["text"], stored["stop_reason"], Usage(**stored["usage"]), error)


async def finish_item(ctx: Context, item: Item) -> None:
    """Turn a tool's stored batch results into its run, redoing live what the batch did not do."""
    assert item.run_id is not None
    requests = {r["persona"]: r for r in ctx.jobs.requests_of(ctx.job_id, item.slug, item.run_id)}
    if not requests or any(r["state"] == "submitted" for r in requests.values()):
        return  # still in a batch that has not ended
    docs = await load_row(ctx, item.row)
    uploaded = await ctx.registry.ensure_all(docs)
    await recover_lost(ctx.registry, docs, requests.values())  # files gone since submission
    session = session_for(ctx, item, docs)
    model, card_model = ctx.settings.model, ctx.settings.card_model
    ttl = write_ttl(ctx.options.batch_cache)
    shares: dict[str, ModelUsage] = {}  # tokens and cost per model, batch and live calls alike

    async def verdict(persona: Any) -> VerdictRecord:
        row = requests.get(persona.id)
        stored = json.loads(row["result"]) if row is not None and row["result"] else None
        if row is None or row["state"] == "retry" or stored is None:
            record = await judge(session, persona, model)
            charge(shares, model, record.usage, cost(model, record.usage))
            return record
        if row["state"] == "failed":
            return VerdictRecord.failed(persona.id, persona.version, stored["error"] or "errored")
        first = reply_of(stored, Verdict)
        record = await judge(session, persona, model, first=first)
        charge(shares, model, record.usage, cost(model, record.usage))
        charge(shares, model, first.usage, cost(model, first.usage, batch=True, cache_ttl=ttl))
        return record.model_copy(update={"usage": record.usage + first.usage})

    async def card() -> tuple[ToolCard | None, str | None, Usage]:
        row = requests.get(CARD)
        stored = json.loads(row["result"]) if row is not None and row["result"] else None
        if row is not None and row["state"] == "succeeded" and stored is not None:
            reply = reply_of(stored, card_schema())
            usd = cost(card_model, reply.usage, batch=True)
            charge(shares, card_model, reply.usage, usd)
            return stored_card(reply.parsed), reply.error, reply.usage
        if row is not None and row["state"] == "failed" and stored is not None:
            return None, stored["error"], Usage()
        found, error, usage = await extract_card(session, card_model, DEFAULT_CARD_MAX_TOKENS)
        charge(shares, card_model, usage, cost(card_model, usage))
        return found, error, usage

    verdicts, (found, card_error, _) = await asyncio.gather(
        asyncio.gather(*(verdict(p) for p in ctx.personas)), card()
    )
    name, slug = tool_names(documents_for(ctx, item.row), docs)
    run = build_run(
        documents_for(ctx, item.row),
        settings=ctx.settings,
        personas=ctx.personas,
        prompts=ctx.prompts,
        system=session.system,
        name=name,
        slug=slug,
        docs=docs,
        registry=ctx.registry,
        uploaded_now=[False for _ in uploaded],
        verdicts=list(verdicts),
        card=found,
        card_error=card_error,
        usage=RunUsage.of(shares),
        timings=Timings(),
        run_id=item.run_id,
    )
    also = ctx.jobs.mark_run(ctx.job_id)
    ctx.store.save_run(run, also=lambda db: also(db, run))


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
