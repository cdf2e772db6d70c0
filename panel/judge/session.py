"""Runs the personas: one structured call each, concurrently, with one repair and failure as data."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from panel.api.client import Client, FileGone
from panel.api.registry import Registry, dead_ids
from panel.api.replies import M, Reply
from panel.api.retry import RetryPolicy, policy_from_env, retrying
from panel.api.scheduler import Scheduler
from panel.config import DEFAULT_SHIP_THRESHOLD
from panel.errors import APIError
from panel.judge.ensemble import combine
from panel.judge.evidence import check_all
from panel.judge.framing import (
    document_blocks,
    instruction_name,
    persona_instruction,
    sent_file_ids,
)
from panel.judge.personas import Persona
from panel.judge.pricing import estimate_tokens, min_cache_tokens
from panel.judge.prompts import Prompts
from panel.model.verdict import ToolCard, Usage, Verdict, VerdictRecord, card_schema
from panel.sources.documents import Document

# Added to a call's priority when a wait past the cap sends it behind the other calls of a batch.
REQUEUED = 1_000_000_000

State = Literal["waiting", "writing", "repairing", "done", "failed"]
OnEvent = Callable[[str, State, str], None]


def _quiet(persona: str, state: State, detail: str) -> None:
    """The default progress listener: says nothing."""


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
    cache_prefix: bool = True  # off where no later call could read the entry (Message Batches)
    cached: set[str] = field(default_factory=set)  # models whose cache holds the document prefix
    policy: RetryPolicy = field(default_factory=policy_from_env)

    def __post_init__(self) -> None:
        # `tool_name` is what instructions call the tool; only a name the user gave survives.
        self.tool_name = instruction_name(self.tool_name)
        if self.scheduler is not None:  # batch: a wait past the cap goes behind the others
            self.policy = replace(self.policy, requeue_over_cap=True)

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

    def messages(self, instruction: str, *, cache: bool = True) -> list[dict[str, Any]]:
        """Documents first, then the persona-specific text: one prefix shared by all personas.

        The card call (another model, whose cache no other call reads) passes `cache=False`."""
        ids = [self.registry.known(d) or "" for d in self.docs]
        return [
            {
                "role": "user",
                "content": [
                    *document_blocks(
                        self.docs,
                        ids,
                        ttl=self.cache_ttl,
                        cache=cache and self.cache_prefix,
                        inline=self.registry.inline,
                    ),
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
        """One call; if Messages says a referenced file is gone, upload it again and try once more."""
        try:
            return await self._send(schema, model, messages, max_tokens, on_start)
        except FileGone as gone:
            # the ids this call sent, not the registry's current ones: another call may have
            # replaced them already, and those fresh uploads are not dead
            await self.registry.recover(self.docs, dead_ids(str(gone), sent_file_ids(messages)))
            cached = any("cache_control" in b for b in messages[0]["content"])
            fresh = self.messages(messages[0]["content"][-1]["text"], cache=cached) + messages[1:]
            return await self._send(schema, model, fresh, max_tokens, on_start)

    async def _send(
        self,
        schema: type[M],
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int,
        on_start: Callable[[], None] | None = None,
    ) -> Reply[M]:
        """The call under the one retry layer: at most `policy.attempts` requests at the server.

        In `batch` each attempt waits its turn in the scheduler; an attempt after a wait the cap
        cut short goes to the back of the queue.
        """
        requeue = False

        def send() -> Awaitable[Reply[M]]:
            return self.client.structured(
                schema,
                model=model,
                system=self.system_blocks(),
                messages=messages,
                max_tokens=max_tokens,
                on_start=on_start,
            )

        async def attempt(number: int) -> Reply[M]:
            if self.scheduler is None:
                return await send()
            reply = await self.scheduler.run(
                send,
                priority=self.priority + (REQUEUED if requeue else 0),
                tokens_in=self.prompt_tokens(messages, model),
                tokens_out=max_tokens // 3,
                measure=lambda r: (
                    r.usage.input_tokens + r.usage.cache_creation_input_tokens,
                    r.usage.output_tokens,
                ),
                model=model,
                headers=lambda r: r.headers,
            )
            if reply.usage.cache_creation_input_tokens or reply.usage.cache_read_input_tokens:
                self.cached.add(model)
            return reply

        async def before_retry(exc: BaseException) -> None:
            nonlocal requeue
            requeue = requeue or self.policy.over_cap(exc)
            if self.scheduler is not None:
                self.scheduler.retried += 1

        return await retrying(attempt, self.policy, before_retry=before_retry)


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
        persona.id,
        persona.version,
        reply.parsed,
        attempts=attempts,
        usage=usage,
        seconds=seconds,
        evidence=check_all(reply.parsed.evidence, session.docs),
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
    instruction = session.prompts.render("card", tool_name=instruction_name(session.tool_name))
    try:
        messages = session.messages(instruction, cache=False)
        reply = await session.call(card_schema(), model, messages, max_tokens)
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
    samples: int = 1,
    threshold: float = DEFAULT_SHIP_THRESHOLD,
    finished: dict[str, VerdictRecord] | None = None,
) -> list[VerdictRecord]:
    """Every persona's verdict, concurrently, sharing one cached document prefix.

    Each verdict also lands in `finished` (by persona id) as soon as it is made, so that a
    caller interrupted before the whole panel answers still has the verdicts it paid for.

    Four calls fired at the same instant would each pay to write the cache. So the first persona
    goes ahead and the others follow as soon as its streamed reply starts (when the entry becomes
    readable): about one time-to-first-token, in `review` and in `batch` alike. With `samples`
    K > 1 each persona is asked K times (`ensemble.combine` reduces them, with `threshold` for a
    tied decision): the first persona's first sample opens the cache and every other call reads it.
    """
    for p in personas:
        on_event(p.id, "waiting", "")

    def panel(opener: asyncio.Task[VerdictRecord] | None = None) -> Awaitable[list[VerdictRecord]]:
        return asyncio.gather(
            *(
                kept(
                    finished,
                    p.id,
                    persona_verdict(
                        session, p, model, on_event, samples, threshold, opener if i == 0 else None
                    ),
                )
                for i, p in enumerate(personas)
            )
        )

    if len(personas) * samples < 2 or not cacheable(session, model):
        return list(await panel())
    started = asyncio.Event()
    listener = on_event if samples == 1 else sample_events(on_event)
    first = asyncio.create_task(judge(session, personas[0], model, listener, on_start=started.set))
    opened = asyncio.create_task(started.wait())
    try:
        await asyncio.wait({first, opened}, return_when=asyncio.FIRST_COMPLETED)
        opened.cancel()
        if first.done():
            first.result()  # its error (a refused key) stops the panel before the others start
        return list(await panel(first))
    except BaseException:
        first.cancel()
        with contextlib.suppress(BaseException):
            await first
        raise


async def kept(
    finished: dict[str, VerdictRecord] | None, persona: str, verdict: Awaitable[VerdictRecord]
) -> VerdictRecord:
    """The verdict, also put in `finished` the moment it is made."""
    record = await verdict
    if finished is not None:
        finished[persona] = record
    return record


async def persona_verdict(
    session: Session,
    persona: Persona,
    model: str,
    on_event: OnEvent,
    samples: int,
    threshold: float,
    opener: Awaitable[VerdictRecord] | None = None,
) -> VerdictRecord:
    """One persona's verdict from `samples` calls; `opener`, if given, is its first call, running."""
    if samples == 1:
        return await (opener or judge(session, persona, model, on_event))
    started = [opener] if opener is not None else []
    rest = samples - len(started)
    calls = (judge(session, persona, model, sample_events(on_event)) for _ in range(rest))
    record = combine(await asyncio.gather(*started, *calls), threshold=threshold)
    if record.status == "ok":
        detail = f"{record.score}/100 ± {record.spread:g} · {record.decision}"
        on_event(persona.id, "done", f"{detail} ({samples} samples)")
    else:
        on_event(persona.id, "failed", record.error or "")
    return record


def sample_events(on_event: OnEvent) -> OnEvent:
    """Progress for one sample of several: its work shows, its end waits for the persona's verdict."""

    def listener(persona: str, state: State, detail: str) -> None:
        if state in ("writing", "repairing"):
            on_event(persona, state, detail)

    return listener


def cacheable(session: Session, model: str) -> bool:
    """Whether the shared prefix can be cached at all: below the model's minimum (1024 tokens on
    Sonnet, 4096 on Opus and Haiku), caching does nothing and waiting for a write is wasted."""
    prefix = estimate_tokens(
        len(session.system) + sum(len(d.data) for d in session.docs if d.mime == "text/plain"),
        sum(len(d.data) for d in session.docs if d.mime == "application/pdf"),
    )
    return bool(session.docs) and prefix >= min_cache_tokens(model)
