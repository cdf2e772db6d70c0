"""Runs the personas: one structured call each, concurrently, with one repair and failure as data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from panel.api.client import Client, FileGone, M, Reply
from panel.api.registry import Registry
from panel.api.scheduler import Scheduler
from panel.config import DEFAULT_MIN_CACHE_TOKENS
from panel.errors import APIError
from panel.judge.personas import Persona
from panel.judge.pricing import estimate_tokens
from panel.judge.prompts import Prompts
from panel.model.verdict import ToolCard, Usage, Verdict, VerdictRecord, card_schema
from panel.sources.documents import Document

State = Literal["waiting", "writing", "repairing", "done", "failed"]
OnEvent = Callable[[str, State, str], None]


def _quiet(persona: str, state: State, detail: str) -> None:
    """The default progress listener: says nothing."""


def document_blocks(
    docs: Sequence[Document], file_ids: Sequence[str], *, ttl: str | None = None
) -> list[dict[str, Any]]:
    """Every document as a file reference; the last one closes the shared, cacheable prefix."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "document",
            "source": {"type": "file", "file_id": fid},
            "title": doc.title,
            **({"context": f"Source: {doc.source}"} if doc.origin == "url" else {}),
        }
        for doc, fid in zip(docs, file_ids, strict=True)
    ]
    if blocks:
        blocks[-1]["cache_control"] = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return blocks


@dataclass
class Session:
    """What every call of one review shares: the client, the documents and their file_ids."""

    client: Client
    registry: Registry
    prompts: Prompts
    docs: Sequence[Document]
    tool_name: str
    system: str
    max_tokens: int
    scheduler: Scheduler | None = None  # `batch`: every call waits its turn under the shared limits
    priority: int = 0  # lower goes first: a tool's position in the backlog
    cache_ttl: str | None = None
    cached: set[str] = field(default_factory=set)  # models whose cache holds the document prefix

    def prompt_tokens(self, messages: list[dict[str, Any]], model: str) -> int:
        """A rough input size for the rate limiter; the real count settles it after the reply.

        Cache reads do not count against input tokens per minute, so once a call has written the
        prefix for this model, the documents and system prompt are left out of the estimate.
        """
        text = sum(
            len(b.get("text", "")) for m in messages for b in m["content"] if isinstance(b, dict)
        )
        if model in self.cached:
            return estimate_tokens(text)
        text += len(self.system) + sum(len(d.data) for d in self.docs if d.mime == "text/plain")
        pdf = sum(len(d.data) for d in self.docs if d.mime == "application/pdf")
        return estimate_tokens(text, pdf)

    def system_blocks(self) -> list[dict[str, Any]]:
        return [{"type": "text", "text": self.system}]

    def messages(self, instruction: str) -> list[dict[str, Any]]:
        """Documents first, then the persona-specific text: one prefix shared by all personas."""
        ids = [self.registry.known(d) or "" for d in self.docs]
        return [
            {
                "role": "user",
                "content": [
                    *document_blocks(self.docs, ids, ttl=self.cache_ttl),
                    {"type": "text", "text": instruction},
                ],
            }
        ]

    async def call(
        self,
        schema: type[M],
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int,
        on_start: Callable[[], None] | None = None,
    ) -> Reply[M]:
        """One call; if a referenced file is gone, re-upload what is lost and try once more."""
        try:
            return await self._send(schema, model, messages, max_tokens, on_start)
        except FileGone:
            await self.registry.recover(self.docs)
            fresh = self.messages(messages[0]["content"][-1]["text"]) + messages[1:]
            return await self._send(schema, model, fresh, max_tokens, on_start)

    async def _send(
        self,
        schema: type[M],
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int,
        on_start: Callable[[], None] | None = None,
    ) -> Reply[M]:
        def send() -> Awaitable[Reply[M]]:
            return self.client.structured(
                schema,
                model=model,
                system=self.system_blocks(),
                messages=messages,
                max_tokens=max_tokens,
                on_start=on_start,
            )

        if self.scheduler is None:
            return await send()
        reply = await self.scheduler.run(
            send,
            priority=self.priority,
            tokens_in=self.prompt_tokens(messages, model),
            tokens_out=max_tokens // 3,
            measure=lambda r: (
                r.usage.input_tokens + r.usage.cache_creation_input_tokens,
                r.usage.output_tokens,
            ),
        )
        if reply.usage.cache_creation_input_tokens or reply.usage.cache_read_input_tokens:
            self.cached.add(model)
        return reply


def persona_instruction(prompts: Prompts, persona: Persona, tool_name: str) -> str:
    return prompts.render("persona", persona=persona, tool_name=tool_name)


async def judge(
    session: Session,
    persona: Persona,
    model: str,
    on_event: OnEvent = _quiet,
    *,
    first: Reply[Verdict] | None = None,
    on_start: Callable[[], None] | None = None,
) -> VerdictRecord:
    """One persona's verdict: a call, one repair if the reply is unusable, else a failed record.

    `first` is a reply already received for the first call (a Message Batches result): it is
    validated and repaired exactly like a live one, and its usage is the caller's to count.
    """
    started = time.monotonic()
    instruction = persona_instruction(session.prompts, persona, session.tool_name)
    messages = session.messages(instruction)
    usage = Usage()
    attempts = 0
    reply: Reply[Verdict] | None = None
    on_event(persona.id, "writing", "")
    try:
        for attempt in range(2):
            attempts += 1
            max_tokens = session.max_tokens * (2 if attempt else 1)
            if attempt == 0 and first is not None:
                reply = first
            else:
                start = on_start if attempt == 0 else None
                reply = await session.call(Verdict, model, messages, max_tokens, start)
                usage = usage + reply.usage
            if reply.parsed is not None:
                break
            on_event(persona.id, "repairing", reply.error or "")
            messages = [*messages, *repair_turns(session.prompts, reply)]
    except (APIError, FileGone) as exc:
        on_event(persona.id, "failed", str(exc))
        return VerdictRecord.failed(
            persona.id,
            persona.version,
            str(exc),
            attempts=attempts,
            usage=usage,
            seconds=round(time.monotonic() - started, 3),
        )
    assert reply is not None
    seconds = round(time.monotonic() - started, 3)
    if reply.parsed is None:
        on_event(persona.id, "failed", reply.error or "")
        return VerdictRecord.failed(
            persona.id,
            persona.version,
            reply.error or "unusable reply",
            raw=reply.raw,
            attempts=attempts,
            usage=usage,
            seconds=seconds,
        )
    on_event(persona.id, "done", f"{reply.parsed.score}/100 · {reply.parsed.decision}")
    return VerdictRecord.ok(
        persona.id, persona.version, reply.parsed, attempts=attempts, usage=usage, seconds=seconds
    )


def repair_turns(prompts: Prompts, reply: Reply[Any]) -> list[dict[str, Any]]:
    """The turns that ask for a corrected answer, showing the model what it wrote."""
    said = reply.raw if reply.raw.strip() else "(no usable answer)"
    text = prompts.render("repair", error=reply.error or "it did not match the schema")
    return [
        {"role": "assistant", "content": [{"type": "text", "text": said}]},
        {"role": "user", "content": [{"type": "text", "text": text}]},
    ]


async def extract_card(
    session: Session, model: str, max_tokens: int
) -> tuple[ToolCard | None, str | None, Usage]:
    """The tool card: one inexpensive call beside the personas. A failure leaves the card empty."""
    instruction = session.prompts.render("card", tool_name=session.tool_name)
    try:
        reply = await session.call(card_schema(), model, session.messages(instruction), max_tokens)
    except (APIError, FileGone) as exc:
        return None, str(exc), Usage()
    return stored_card(reply.parsed), reply.error, reply.usage


def stored_card(parsed: ToolCard | None) -> ToolCard | None:
    """The card as a run keeps it: plain ToolCard, whatever schema the call validated against."""
    return ToolCard.model_validate(parsed.model_dump()) if parsed is not None else None


async def run_personas(
    session: Session,
    personas: Sequence[Persona],
    model: str,
    on_event: OnEvent = _quiet,
    *,
    warm: bool = False,
) -> list[VerdictRecord]:
    """Every persona's verdict, concurrently, sharing one cached document prefix.

    Four calls fired at the same instant would each pay to write the cache. So the first persona
    goes ahead and the others follow once it has written the prefix: by default as soon as its
    streamed reply starts (when the entry becomes readable), which costs about one time-to-first-
    token; with `warm`, once it has answered in full (`batch`, where throughput is the goal and
    every call is scheduled whole).
    """
    for p in personas:
        on_event(p.id, "waiting", "")
    if len(personas) < 2 or not cacheable(session):
        return list(await asyncio.gather(*(judge(session, p, model, on_event) for p in personas)))
    if warm:
        first_verdict = await judge(session, personas[0], model, on_event)
    else:
        started = asyncio.Event()
        first = asyncio.create_task(
            judge(session, personas[0], model, on_event, on_start=started.set)
        )
        opened = asyncio.create_task(started.wait())
        await asyncio.wait({first, opened}, return_when=asyncio.FIRST_COMPLETED)
        opened.cancel()
    rest = await asyncio.gather(*(judge(session, p, model, on_event) for p in personas[1:]))
    return [first_verdict if warm else await first, *rest]


def cacheable(session: Session) -> bool:
    """Whether the shared prefix can be cached at all: below the minimum, caching does nothing."""
    prefix = estimate_tokens(
        len(session.system) + sum(len(d.data) for d in session.docs if d.mime == "text/plain"),
        sum(len(d.data) for d in session.docs if d.mime == "application/pdf"),
    )
    return bool(session.docs) and prefix >= DEFAULT_MIN_CACHE_TOKENS
