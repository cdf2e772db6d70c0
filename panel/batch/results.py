"""A batch's results: classified as they are stored, then turned into each tool's run.

Apart from the polling so that a stored result is read one way: validated like a live reply (with
the same repair turn), and redone live when the batch did not do it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from panel.api.replies import Reply, validate_reply
from panel.batch.context import Context, documents_for, load_row
from panel.batch.items import Item
from panel.batch.lost import recover_lost
from panel.batch.requests import CARD, session_for, write_ttl
from panel.config import DEFAULT_CARD_MAX_TOKENS
from panel.judge.pricing import charge, cost
from panel.judge.review import build_run, tool_names
from panel.judge.session import extract_card, judge, stored_card
from panel.model.run import ModelUsage, RunUsage, Timings
from panel.model.verdict import ToolCard, Usage, Verdict, VerdictRecord, card_schema

# Errors that a second try may fix; anything else (a bad request, a refused key) will not.
TRANSIENT_ERRORS = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}


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
