"""One review, end to end: sources -> uploads -> persona calls (+ tool card) -> decision -> record.

`cli.py` calls this; `rerun` and `batch` reuse the same pieces.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from panel.api.client import Client
from panel.api.registry import Registry
from panel.api.scheduler import Scheduler
from panel.config import DEFAULT_CARD_MAX_TOKENS, Settings
from panel.errors import InputError
from panel.judge.decision import decide
from panel.judge.personas import Persona
from panel.judge.pricing import cost, estimate_tokens
from panel.judge.prompts import Prompts, sha256_text
from panel.judge.session import (
    GivenName,
    OnEvent,
    Session,
    _quiet,
    extract_card,
    persona_instruction,
    run_personas,
)
from panel.model.run import DocumentRef, Run, Timings, ToolInfo
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
from panel.store.sqlite import Store, new_run_id


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
    return list(unique.values())


def tool_names(request: Request, docs: Sequence[Document]) -> tuple[str, str]:
    """(name, slug): an explicit --name wins; otherwise a name derived from the documents.

    A rerun carries the previous run's name and slug, so its runs stay under one tool. Only the
    user's name is a GivenName: a derived one is shown and keys the tool, but instructions call
    that tool "the tool described in the documents" (see `instruction_name`).
    """
    given = (request.name or "").strip()
    if given:
        return GivenName(given), request.slug or slugify(given)
    name = request.reviewed_as or derive_name(list(docs))
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
    also: Callable[[sqlite3.Connection, Run], None] | None = None,
) -> Run:
    """Review one tool and record the run; persona failures are recorded, never raised.

    `batch` passes its shared registry and scheduler (the tool's position as `priority`), and
    `also`, which runs in the transaction that indexes the run.
    """
    t0 = time.monotonic()
    docs = list(docs) if docs is not None else load_documents(request, settings, store)
    name, slug = tool_names(request, docs)
    if request.name:  # a clashing --name is refused before anything is paid for
        store.check_name(slug, request.name.strip())
    t_sources = time.monotonic()

    registry = registry or Registry(store, client, endpoint)
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
    verdicts, (card, card_error, card_usage) = await asyncio.gather(
        run_personas(session, personas, settings.model, on_event),
        extract_card(session, settings.card_model, DEFAULT_CARD_MAX_TOKENS),
    )
    t_panel = time.monotonic()

    usage = sum((v.usage for v in verdicts), Usage())
    persona_cost = cost(settings.model, usage)
    card_cost = cost(settings.card_model, card_usage)
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
        usage=usage + card_usage,
        cost_usd=None if persona_cost is None else persona_cost + (card_cost or 0.0),
        timings=Timings(
            sources_s=round(t_sources - t0, 3),
            uploads_s=round(t_uploads - t_sources, 3),
            panel_s=round(t_panel - t_uploads, 3),
            total_s=round(time.monotonic() - t0, 3),
        ),
    )
    store.save_run(run, also=None if also is None else lambda db: also(db, run))
    return run


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
    usage: Usage,
    cost_usd: float | None,
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
        cost_usd=None if cost_usd is None else round(cost_usd, 6),
        prompt_versions={n: prompts.version(n) for n in ("system", "persona", "card", "repair")},
        prompt_hashes={
            "system": sha256_text(system),
            **{p.id: sha256_text(persona_instruction(prompts, p, name)) for p in personas},
        },
        timings=timings,
    )


@dataclass
class Plan:
    """What --dry-run shows: what would be sent, and what it would roughly cost."""

    name: str
    slug: str
    model: str
    documents: list[Document]
    system: str
    instructions: dict[str, str]
    input_tokens: int
    output_tokens: int
    cost_usd: float | None


def plan(
    request: Request, *, settings: Settings, personas: Sequence[Persona], prompts: Prompts
) -> Plan:
    """Everything a review would send, without a key or a network call (URLs excepted)."""
    docs = load_documents(request, settings, None)
    name, slug = tool_names(request, docs)
    system = prompts.render("system")
    instructions = {p.id: persona_instruction(prompts, p, name) for p in personas}
    text_chars = sum(len(d.data) for d in docs if d.mime == "text/plain")
    pdf_bytes = sum(len(d.data) for d in docs if d.mime == "application/pdf")
    prefix = estimate_tokens(text_chars + len(system), pdf_bytes)
    per_call = [prefix + estimate_tokens(len(t)) for t in instructions.values()]
    input_tokens = sum(per_call)
    output_tokens = settings.max_tokens // 3 * len(personas)
    price = cost(settings.model, Usage(input_tokens=input_tokens, output_tokens=output_tokens))
    return Plan(
        name, slug, settings.model, docs, system, instructions, input_tokens, output_tokens, price
    )
