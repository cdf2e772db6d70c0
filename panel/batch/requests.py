"""A tool's Message Batches requests: their custom ids, the batch limits, and the cache rounds.

Apart from the steps that submit and poll so that what a request holds (built exactly as the live
call is) and how the prompt cache is spread over rounds read in one place.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from panel.api.client import Batches
from panel.batch.context import Context, documents_for, load_row
from panel.batch.items import Item
from panel.config import DEFAULT_CARD_MAX_TOKENS
from panel.judge.framing import persona_instruction
from panel.judge.review import tool_names
from panel.judge.session import Session
from panel.model.verdict import Verdict, card_schema
from panel.store.records import new_run_id

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
