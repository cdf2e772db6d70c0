"""One review, end to end: sources -> uploads -> persona calls (+ tool card) -> decision -> record.

`cli.py` calls this; `rerun` and `batch` reuse the same pieces.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from panel.api.client import Client
from panel.api.registry import Registry
from panel.api.scheduler import Scheduler
from panel.config import CONTEXT_TOKENS, DEFAULT_CARD_MAX_TOKENS, Settings
from panel.errors import InputError
from panel.judge.decision import decide
from panel.judge.estimate import Calls, calls_for, estimate, exact_counts, rough_counts
from panel.judge.framing import GivenName, persona_instruction
from panel.judge.personas import Persona
from panel.judge.pricing import charge, cost, estimate_tokens
from panel.judge.prompts import Prompts, sha256_text
from panel.judge.session import OnEvent, Session, _quiet, extract_card, run_personas
from panel.model.run import DocumentRef, Run, RunUsage, Timings, ToolInfo
from panel.model.verdict import ToolCard, Usage, VerdictRecord
from panel.sources.documents import (
    Document,
    derive_name,
    is_url,
    load_description,
    load_file,
    load_stdin,
    slugify,
)
from panel.sources.names import normalize_name
from panel.store.connection import Connection
from panel.store.records import new_run_id
from panel.store.sqlite import Store


@dataclass
class Request:
    """What the user asked to review."""

    sources: Sequence[str] = ()
    description: str | None = None
    name: str | None = None
    slug: str | None = None  # a rerun keeps its tool's key rather than deriving one again
    reviewed_as: str | None = None  # a rerun tells the personas the same name as before
    parent_run_id: str | None = None
    job_id: str | None = None
    extra_documents: Sequence[Document] = field(default_factory=list)


def load_documents(request: Request, settings: Settings, store: Store | None) -> list[Document]:
    """Every source of a request as Documents, identical contents kept once, in the order given."""
    if not request.sources and request.description is None and not request.extra_documents:
        raise InputError(
            "nothing to review: give a file, a URL, '-' for stdin, or --description TEXT"
        )
    docs: list[Document] = list(request.extra_documents)
    for spec in request.sources:
        if spec == "-":
            docs.append(load_stdin())
        elif is_url(spec):
            from panel.sources.web import load_url

            docs.append(load_url(spec, settings=settings, store=store))
        else:
            docs.append(load_file(Path(spec)))
    if request.description is not None:
        docs.append(load_description(request.description))
    unique: dict[str, Document] = {}
    for doc in docs:
        unique.setdefault(doc.sha256, doc)
    return check_fits(list(unique.values()))


def check_fits(docs: list[Document]) -> list[Document]:
    """Refuse, before any upload or call, text that could not fit the model's context window
    (PDFs are left to the API: their bytes say little about their tokens)."""
    text = sum(len(d.data) for d in docs if d.mime == "text/plain")
    tokens = estimate_tokens(text)
    if tokens > CONTEXT_TOKENS:
        raise InputError(
            f"the documents come to about {tokens:,} tokens, more than a model's context window "
            f"({CONTEXT_TOKENS:,}); review a shorter extract"
        )
    return docs


def tool_names(request: Request, docs: Sequence[Document]) -> tuple[str, str]:
    """(name, slug): an explicit --name wins; otherwise a name derived from the documents.

    A rerun carries the previous run's name and slug, so its runs stay under one tool. Only the
    user's name is a GivenName: a derived one is shown and keys the tool, but instructions call
    that tool "the tool described in the documents" (see `instruction_name`).
    """
    given = normalize_name(request.name or "")
    if given:
        return GivenName(given), request.slug or slugify(given)
    name = normalize_name(request.reviewed_as or derive_name(list(docs))) or "untitled"
    return name, request.slug or slugify(name)


def card_slug(card: ToolCard, fallback: str) -> str:
    """Without --name, the card's name keys the tool ("Zed"), not a description's first words."""
    try:
        return slugify(card.name)
    except InputError:
        return fallback


def document_ref(doc: Document, file_id: str | None, uploaded_now: bool) -> DocumentRef:
    inline = doc.data.decode("utf-8") if doc.origin in ("description", "stdin") else None
    return DocumentRef(
        name=doc.name,
        title=doc.title,
        mime=doc.mime,
        origin=doc.origin,
        source=doc.source,
        size_bytes=len(doc.data),
        sha256=doc.sha256,
        file_id=file_id,
        uploaded_now=uploaded_now,
        fetch=doc.fetch,
        text=inline,
    )


async def review(
    request: Request,
    *,
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    client: Client,
    store: Store,
    endpoint: str,
    docs: Sequence[Document] | None = None,
    on_event: OnEvent = _quiet,
    registry: Registry | None = None,
    scheduler: Scheduler | None = None,
    priority: int = 0,
    also: Callable[[Connection, Run], None] | None = None,
    inline_documents: bool = False,
) -> Run:
    """Review one tool and record the run; persona failures are recorded, never raised.

    `batch` passes its shared registry and scheduler (the tool's position as `priority`), and
    `also`, which runs in the transaction that indexes the run. `inline_documents` sends the
    documents as text blocks instead of uploads (a server without a Files API).
    """
    t0 = time.monotonic()
    docs = list(docs) if docs is not None else load_documents(request, settings, store)
    name, slug = tool_names(request, docs)
    if request.name:  # a clashing --name is refused before anything is paid for
        store.check_name(slug, request.name.strip())
    t_sources = time.monotonic()

    registry = registry or Registry(store, client, endpoint, inline=inline_documents)
    uploaded = await registry.ensure_all(docs)
    t_uploads = time.monotonic()

    system = prompts.render("system")
    session = Session(
        client,
        registry,
        prompts,
        docs,
        name,
        system,
        settings.max_tokens,
        scheduler=scheduler,
        priority=priority,
    )
    finished: dict[str, VerdictRecord] = {}
    carded: list[tuple[ToolCard | None, str | None, Usage]] = []
    try:
        verdicts, (card, card_error, card_usage) = await asyncio.gather(
            run_personas(
                session,
                personas,
                settings.model,
                on_event,
                samples=settings.samples,
                threshold=settings.ship_threshold,
                finished=finished,
            ),
            kept_card(extract_card(session, settings.card_model, DEFAULT_CARD_MAX_TOKENS), carded),
        )
        interrupted = False
    except asyncio.CancelledError:  # Ctrl-C: the verdicts already paid for are recorded
        if not finished:
            raise
        verdicts = [finished.get(p.id) or interrupted_verdict(p) for p in personas]
        card, card_error, card_usage = carded[0] if carded else (None, INTERRUPTED, Usage())
        interrupted = True
        also = None  # not a finished review: a batch reviews the tool again when resumed
    t_panel = time.monotonic()

    usage = sum((v.usage for v in verdicts), Usage())
    shares = charge({}, settings.model, usage, cost(settings.model, usage))
    charge(shares, settings.card_model, card_usage, cost(settings.card_model, card_usage))
    run = build_run(
        request,
        settings=settings,
        personas=personas,
        prompts=prompts,
        system=system,
        name=name,
        slug=slug,
        docs=docs,
        registry=registry,
        uploaded_now=[now for _, now in uploaded],
        verdicts=verdicts,
        card=card,
        card_error=card_error,
        usage=RunUsage.of(shares),
        timings=Timings(
            sources_s=round(t_sources - t0, 3),
            uploads_s=round(t_uploads - t_sources, 3),
            panel_s=round(t_panel - t_uploads, 3),
            total_s=round(time.monotonic() - t0, 3),
        ),
    )
    store.save_run(run, also=None if also is None else lambda db: also(db, run))
    if interrupted:
        raise asyncio.CancelledError
    return run


# Why a persona that had not answered when the review was interrupted has no verdict.
INTERRUPTED = "interrupted"


def interrupted_verdict(persona: Persona) -> VerdictRecord:
    """The honest record of a call cut short by Ctrl-C: failed, not a skip."""
    return VerdictRecord.failed(persona.id, persona.version, INTERRUPTED)


async def kept_card(
    card: Awaitable[tuple[ToolCard | None, str | None, Usage]],
    carded: list[tuple[ToolCard | None, str | None, Usage]],
) -> tuple[ToolCard | None, str | None, Usage]:
    """The card call's outcome, also kept in `carded` the moment it is known."""
    carded.append(await card)
    return carded[-1]


def build_run(
    request: Request,
    *,
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    system: str,
    name: str,
    slug: str,
    docs: Sequence[Document],
    registry: Registry,
    uploaded_now: Sequence[bool],
    verdicts: list[VerdictRecord],
    card: ToolCard | None,
    card_error: str | None,
    usage: RunUsage,
    timings: Timings,
    run_id: str | None = None,
) -> Run:
    """The Run record of a finished panel: decision, documents, versions, usage and cost."""
    decision = decide(verdicts, threshold=settings.ship_threshold, quorum=settings.quorum)
    if not (request.name or request.slug) and card is not None:
        slug = card_slug(card, slug)
    return Run(
        run_id=run_id or new_run_id(),
        parent_run_id=request.parent_run_id,
        job_id=request.job_id,
        status="incomplete" if decision.decision == "incomplete" else "complete",
        model=settings.model,
        tool=ToolInfo(
            name=request.name or (card.name if card else None) or name,
            slug=slug,
            reviewed_as=name,
            name_given=bool(request.name),
            card=card,
            card_error=card_error,
        ),
        documents=[
            document_ref(d, registry.known(d), now)
            for d, now in zip(docs, uploaded_now, strict=True)
        ],
        verdicts=verdicts,
        panel=decision,
        usage=usage,
        cost_usd=usage.cost_usd,
        prompt_versions={n: prompts.version(n) for n in ("system", "persona", "card", "repair")},
        prompt_hashes={
            "system": sha256_text(system),
            **{p.id: sha256_text(persona_instruction(prompts, p, name)) for p in personas},
        },
        timings=timings,
    )


@dataclass
class Plan:
    """What --dry-run shows: what would be sent, and what it would cost with caching counted."""

    name: str
    slug: str
    model: str
    documents: list[Document]
    calls: Calls
    estimate: RunUsage
    counted: bool = False  # input counted by messages.count_tokens, not estimated from sizes
    samples: int = 1  # calls per persona (`--samples K`)

    @property
    def system(self) -> str:
        return self.calls.system

    @property
    def instructions(self) -> dict[str, str]:
        return self.calls.instructions

    @property
    def input_tokens(self) -> int:
        e = self.estimate
        return e.input_tokens + e.cache_creation_input_tokens + e.cache_read_input_tokens

    @property
    def output_tokens(self) -> int:
        return self.estimate.output_tokens

    @property
    def cost_usd(self) -> float | None:
        return self.estimate.cost_usd


def plan(
    request: Request,
    *,
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    docs: Sequence[Document] | None = None,
) -> Plan:
    """Everything a review would send and its estimate, without a key or a network call (URLs
    excepted); `count_plan` makes the input counts exact with a key."""
    docs = list(docs) if docs is not None else load_documents(request, settings, None)
    name, slug = tool_names(request, docs)
    calls = calls_for(docs, name, personas, prompts)
    usage = estimate(rough_counts(calls), settings)
    return Plan(name, slug, settings.model, docs, calls, usage, samples=settings.samples)


async def count_plan(plan: Plan, client: Client, settings: Settings, *, inline: bool) -> Plan:
    """The plan with its input counted by `messages.count_tokens` (free requests, no upload)."""
    counts = await exact_counts(
        client, plan.calls, model=settings.model, card_model=settings.card_model, inline=inline
    )
    return replace(plan, estimate=estimate(counts, settings), counted=True)
