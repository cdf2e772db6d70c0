"""What a review will cost before anything is sent: `--dry-run`'s estimate and `--max-cost`'s check.

It prices the calls `review` makes, laid out as `run_personas` sends them: when the shared document
prefix is long enough to cache, the first persona writes it and the others read it (one write and
three reads; with `--samples K`, K calls a persona and still one write); the card call (another
model) sends it uncached. Input tokens are estimated from sizes (~4 characters a token), or counted
exactly by `messages.count_tokens` when a key is set; output is a third of each call's max_tokens.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from panel.config import DEFAULT_CARD_MAX_TOKENS, Settings
from panel.judge.framing import inline_document, instruction_name, persona_instruction
from panel.judge.personas import Persona
from panel.judge.pricing import charge, cost, estimate_tokens, min_cache_tokens
from panel.judge.prompts import Prompts
from panel.model.run import ModelUsage, RunUsage
from panel.model.verdict import Usage, Verdict, card_schema
from panel.sources.documents import Document

if TYPE_CHECKING:
    from panel.api.client import Client


@dataclass
class Calls:
    """What one review sends: the system prompt, the documents, each call's instruction."""

    system: str
    docs: Sequence[Document]
    instructions: dict[str, str]  # persona id -> instruction
    card: str


@dataclass
class Counts:
    """Input tokens of one review's calls: the shared prefix (system and documents), each persona
    call whole, and the card call whole."""

    prefix: int
    personas: list[int]
    card: int
    counted: bool = False  # by messages.count_tokens, not estimated from sizes


def calls_for(
    docs: Sequence[Document], name: str, personas: Sequence[Persona], prompts: Prompts
) -> Calls:
    return Calls(
        system=prompts.render("system"),
        docs=docs,
        instructions={p.id: persona_instruction(prompts, p, name) for p in personas},
        card=prompts.render("card", tool_name=instruction_name(name)),
    )


def rough_counts(calls: Calls) -> Counts:
    """Counts from sizes: ~4 characters a token of text, ~1 token per 3 bytes of PDF."""
    text = sum(len(d.data) for d in calls.docs if d.mime == "text/plain")
    pdf = sum(len(d.data) for d in calls.docs if d.mime == "application/pdf")
    prefix = estimate_tokens(text + len(calls.system), pdf)
    return Counts(
        prefix=prefix,
        personas=[prefix + estimate_tokens(len(t)) for t in calls.instructions.values()],
        card=prefix + estimate_tokens(len(calls.card)),
    )


def count_blocks(docs: Sequence[Document], *, inline: bool) -> list[dict[str, Any]]:
    """The documents as count_tokens can read them without uploads: text and base64 sources
    (or the text blocks that inline mode sends)."""
    if inline:
        return [inline_document(d) for d in docs]
    blocks = []
    for doc in docs:
        if doc.mime == "application/pdf":
            data = base64.b64encode(doc.data).decode("ascii")
            source = {"type": "base64", "media_type": doc.mime, "data": data}
        else:
            data = doc.data.decode("utf-8", "replace")
            source = {"type": "text", "media_type": "text/plain", "data": data}
        blocks.append({"type": "document", "source": source, "title": doc.title})
    return blocks


async def exact_counts(
    client: Client, calls: Calls, *, model: str, card_model: str, inline: bool = False
) -> Counts:
    """Counts from `messages.count_tokens` (free; one request per call, concurrently)."""
    system = [{"type": "text", "text": calls.system}]
    blocks = count_blocks(calls.docs, inline=inline)

    async def count(on: str, text: str, schema: type[Any] | None = None) -> int:
        messages = [{"role": "user", "content": [*blocks, {"type": "text", "text": text}]}]
        return await client.count_tokens(
            model=on, system=system, messages=messages, output_format=schema
        )

    bare, card, *personas = await asyncio.gather(  # each call with the schema it will send
        count(model, "."),
        count(card_model, calls.card, card_schema()),
        *(count(model, text, Verdict) for text in calls.instructions.values()),
    )
    return Counts(prefix=max(0, bare - 1), personas=personas, card=card, counted=True)


def estimate(counts: Counts, settings: Settings) -> RunUsage:
    """The usage and cost of one review with these counts, caching counted as run_personas does."""
    cached = counts.prefix >= min_cache_tokens(settings.model)
    out = settings.max_tokens // 3
    personas = Usage()
    calls = [total for total in counts.personas for _ in range(settings.samples)]
    for i, total in enumerate(calls):
        if cached:
            hit = {
                "cache_creation_input_tokens"
                if i == 0
                else "cache_read_input_tokens": counts.prefix
            }
            call = Usage(input_tokens=total - counts.prefix, output_tokens=out, **hit)
        else:
            call = Usage(input_tokens=total, output_tokens=out)
        personas = personas + call
    card = Usage(input_tokens=counts.card, output_tokens=DEFAULT_CARD_MAX_TOKENS // 3)
    shares: dict[str, ModelUsage] = {}
    charge(shares, settings.model, personas, cost(settings.model, personas))
    charge(shares, settings.card_model, card, cost(settings.card_model, card))
    return RunUsage.of(shares)


def estimate_pairwise(prefix: int, instructions: Sequence[int], settings: Settings) -> RunUsage:
    """A pairwise comparison's usage and cost: each persona asked in both orders of the two
    tools' documents. Each order is its own cached prefix (system and both tools' documents):
    when it is long enough to cache, its first call writes it and the others read it."""
    cached = prefix >= min_cache_tokens(settings.model)
    out = settings.max_tokens // 3
    total = Usage()
    for _order in ("ab", "ba"):
        for i, tokens in enumerate(instructions):
            if cached:
                kind = "cache_creation_input_tokens" if i == 0 else "cache_read_input_tokens"
                total = total + Usage(input_tokens=tokens, output_tokens=out, **{kind: prefix})
            else:
                total = total + Usage(input_tokens=prefix + tokens, output_tokens=out)
    return RunUsage.of(charge({}, settings.model, total, cost(settings.model, total)))
