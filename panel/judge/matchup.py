"""A vs B, end to end: both tools' stored documents -> each persona asked in both orders ->
the swap rule -> a Pairwise record in the store.

The documents are the ones the latest runs read, by their file_ids in the registry: nothing is
uploaded again. A document the registry has no file for (an inline run, another endpoint) is
read again and uploaded once; one that Messages answers 404 for is read again and re-uploaded
through the registry, once, and the call retried. Each order is one cached prefix (the system
prompt, then the first tool's documents, then the second's, the last one marked): its first
persona writes it and the others start once that reply has begun, so they read it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from panel.api.client import Client, FileGone
from panel.api.registry import Registry, dead_ids
from panel.api.replies import Reply
from panel.api.retry import RetryPolicy, policy_from_env, retrying
from panel.config import Settings
from panel.errors import APIError, InputError
from panel.judge.estimate import estimate_pairwise
from panel.judge.framing import inline_document
from panel.judge.pairwise import ORDERS, ask_of, decide_pair, vote_of
from panel.judge.personas import Persona
from panel.judge.pricing import charge, cost, estimate_tokens, min_cache_tokens
from panel.judge.prompts import Prompts
from panel.judge.rerun import reload
from panel.judge.session import repair_turns
from panel.model.pairwise import Order, PairTool, Pairwise, PairwiseAsk, PairwisePick
from panel.model.run import DocumentRef, Run, RunUsage
from panel.model.verdict import Usage
from panel.sources.documents import Document
from panel.store.pairs import save_pairwise
from panel.store.records import new_run_id
from panel.store.sqlite import Store

PAIRWISE_PROMPTS = ("pairwise_system", "pairwise", "repair")
# The text block that opens each tool's documents; the question names the tools by position.
GROUP_HEADING = "The documents about the {position} tool follow."


def instruction(prompts: Prompts, persona: Persona) -> str:
    return prompts.render("pairwise", persona=persona)


def plan_pair(
    a: Run, b: Run, personas: Sequence[Persona], prompts: Prompts, settings: Settings
) -> RunUsage:
    """The estimate before anything is sent, from the stored sizes of both runs' documents."""
    refs = [*a.documents, *b.documents]
    text = sum(r.size_bytes for r in refs if r.mime == "text/plain")
    pdf = sum(r.size_bytes for r in refs if r.mime == "application/pdf")
    system = len(prompts.render("pairwise_system")) + 2 * len(GROUP_HEADING)
    prefix = estimate_tokens(text + system, pdf)
    sizes = [estimate_tokens(len(instruction(prompts, p))) for p in personas]
    return estimate_pairwise(prefix, sizes, settings)


class Matchup:
    """What every call of one comparison shares: the client, the registry, both runs' documents."""

    def __init__(
        self,
        a: Run,
        b: Run,
        *,
        client: Client,
        registry: Registry,
        prompts: Prompts,
        settings: Settings,
        store: Store,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.runs = {"a": a, "b": b}
        self.client, self.registry, self.prompts = client, registry, prompts
        self.settings, self.store = settings, store
        self.policy = policy or policy_from_env()
        self.system = prompts.render("pairwise_system")
        self.ids: dict[str, str] = {}  # a stored document's sha256 -> the file_id to send
        self.inline: dict[str, Document] = {}  # documents that travel as text (no Files API)
        self.loaded: dict[str, Document] = {}  # documents read again (for an upload)
        self._fixing = asyncio.Lock()

    def refs(self, side: str) -> list[DocumentRef]:
        return self.runs[side].documents

    async def load(self, side: str, ref: DocumentRef) -> Document:
        """A stored document read again from its source (a file, a URL, the record's text). One
        that cannot be read stops `prepare` before any call, and fails as data after a 404."""
        if ref.sha256 not in self.loaded:  # on this thread: the store's connection is its own
            run = self.runs[side]
            self.loaded[ref.sha256] = reload(ref, run.run_id, self.settings, self.store)
        return self.loaded[ref.sha256]

    async def prepare(self) -> None:
        """A file_id for every document: the registry's, else one upload of the document read again."""
        for side in ("a", "b"):
            for ref in self.refs(side):
                known = (
                    None
                    if self.registry.inline
                    else self.store.file_id(self.registry.endpoint, ref.sha256)
                )
                if known:
                    self.ids[ref.sha256] = known
                    continue
                doc = await self.load(side, ref)
                fid, _ = await self.registry.ensure(doc)
                if fid:
                    self.ids[ref.sha256] = fid
                else:
                    self.inline[ref.sha256] = doc

    async def refresh(self, dead: set[str]) -> None:
        """After a 404: the documents behind `dead` file_ids uploaded again, once for all calls."""
        async with self._fixing:
            for side in ("a", "b"):
                for ref in self.refs(side):
                    if self.ids.get(ref.sha256) not in dead:
                        continue
                    doc = await self.load(side, ref)
                    await self.registry.recover([doc], dead)
                    fid = self.registry.known(doc)
                    if fid:
                        self.ids[ref.sha256] = fid

    def blocks(self, side: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for ref in self.refs(side):
            if ref.sha256 in self.inline:
                out.append(inline_document(self.inline[ref.sha256]))
                continue
            block: dict[str, Any] = {
                "type": "document",
                "source": {"type": "file", "file_id": self.ids[ref.sha256]},
                "title": ref.title,
            }
            if ref.origin == "url":
                block["context"] = f"Source: {ref.source}"
            out.append(block)
        return out

    def messages(self, order: Order, text: str) -> list[dict[str, Any]]:
        """Both tools' documents in this order (the last one closes the cached prefix), then the
        persona's question."""
        first, second = ("a", "b") if order == "ab" else ("b", "a")
        content: list[dict[str, Any]] = []
        for position, side in (("first", first), ("second", second)):
            content.append({"type": "text", "text": GROUP_HEADING.format(position=position)})
            content.extend(self.blocks(side))
        content[-1]["cache_control"] = {"type": "ephemeral"}
        content.append({"type": "text", "text": text})
        return [{"role": "user", "content": content}]

    def sent_ids(self) -> list[str]:
        return list(self.ids.values())

    async def call(
        self,
        messages: list[dict[str, Any]],
        max_tokens: int,
        on_start: Callable[[], None] | None,
    ) -> Reply[PairwisePick]:
        """One structured call under the retry policy."""

        def attempt(number: int) -> Awaitable[Reply[PairwisePick]]:
            return self.client.structured(
                PairwisePick,
                model=self.settings.model,
                system=[{"type": "text", "text": self.system}],
                messages=messages,
                max_tokens=max_tokens,
                on_start=on_start if number == 1 else None,
            )

        return await retrying(attempt, self.policy)

    async def ask(
        self, persona: Persona, order: Order, on_start: Callable[[], None] | None = None
    ) -> PairwiseAsk:
        """One persona in one order: a call, one repair if the reply is unusable; failure is data."""
        text = instruction(self.prompts, persona)
        usage = Usage()
        turns: list[dict[str, Any]] = []
        reply: Reply[PairwisePick] | None = None
        try:
            for attempt in range(2):
                max_tokens = self.settings.max_tokens * (2 if attempt else 1)
                start = on_start if attempt == 0 else None
                try:
                    reply = await self.call(self.messages(order, text) + turns, max_tokens, start)
                except FileGone as gone:
                    await self.refresh(dead_ids(str(gone), self.sent_ids()))
                    reply = await self.call(self.messages(order, text) + turns, max_tokens, None)
                usage = usage + reply.usage
                if reply.parsed is not None:
                    return ask_of(order, reply.parsed, usage=usage)
                turns = repair_turns(self.prompts, reply)
        except (APIError, FileGone, InputError) as exc:
            return PairwiseAsk(order=order, status="failed", error=str(exc), usage=usage)
        assert reply is not None
        return PairwiseAsk(
            order=order,
            status="failed",
            error=reply.error or "unusable reply",
            raw=reply.raw,
            usage=usage,
        )

    def cacheable(self) -> bool:
        docs = [*self.refs("a"), *self.refs("b")]
        text = sum(r.size_bytes for r in docs if r.mime == "text/plain") + len(self.system)
        pdf = sum(r.size_bytes for r in docs if r.mime == "application/pdf")
        return estimate_tokens(text, pdf) >= min_cache_tokens(self.settings.model)

    async def in_order(self, personas: Sequence[Persona], order: Order) -> list[PairwiseAsk]:
        """Every persona in one order; the first goes ahead so that the others read its cache."""
        if len(personas) < 2 or not self.cacheable():
            return list(await asyncio.gather(*(self.ask(p, order) for p in personas)))
        started = asyncio.Event()
        first = asyncio.create_task(self.ask(personas[0], order, on_start=started.set))
        opened = asyncio.create_task(started.wait())
        try:
            await asyncio.wait({first, opened}, return_when=asyncio.FIRST_COMPLETED)
            opened.cancel()
            rest = await asyncio.gather(*(self.ask(p, order) for p in personas[1:]))
            return [await first, *rest]
        except BaseException:
            first.cancel()
            with contextlib.suppress(BaseException):
                await first
            raise


async def compare_pair(
    a: Run,
    b: Run,
    *,
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    client: Client,
    store: Store,
    endpoint: str,
) -> Pairwise:
    """Ask every persona which of A and B to ship, in both orders, and record the comparison."""
    registry = Registry(store, client, endpoint)
    matchup = Matchup(
        a, b, client=client, registry=registry, prompts=prompts, settings=settings, store=store
    )
    await matchup.prepare()
    by_order = await asyncio.gather(*(matchup.in_order(personas, order) for order in ORDERS))
    votes = [
        vote_of(p.id, p.version, [asks[i] for asks in by_order]) for i, p in enumerate(personas)
    ]
    usage = sum((v.usage for v in votes), Usage())
    shares = charge({}, settings.model, usage, cost(settings.model, usage))
    total = RunUsage.of(shares)
    record = Pairwise(
        pair_id=new_run_id(),
        model=settings.model,
        a=PairTool(slug=a.tool.slug, name=a.tool.name, run_id=a.run_id),
        b=PairTool(slug=b.tool.slug, name=b.tool.name, run_id=b.run_id),
        votes=votes,
        decision=decide_pair(votes, a.tool.name, b.tool.name),
        usage=total,
        cost_usd=total.cost_usd,
        prompt_versions={n: prompts.version(n) for n in PAIRWISE_PROMPTS},
    )
    save_pairwise(store, record)
    return record
