"""The eval's I/O: load each tool's documents, price the whole eval, run every review.

Every review goes through `panel.judge.review.review`, the flow `panel review` uses, into the
store it is given: the CLI gives a scratch one, never the user's data home.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from panel.api.client import Client
from panel.api.registry import Registry
from panel.config import Settings
from panel.errors import PanelError
from panel.eval import measure
from panel.eval.report import Cost, EvalReport
from panel.eval.suite import Suite, SuiteTool
from panel.judge.personas import Persona
from panel.judge.prompts import Prompts
from panel.judge.redteam import load_corpus
from panel.judge.review import Request, load_documents, plan, review
from panel.model.run import Run
from panel.sources.documents import Document, load_description, load_file
from panel.store.sqlite import Store

DEFAULT_SAMPLES = 5
DEFAULT_EVAL_CONCURRENCY = 4
# The red-team case whose hostile page the robustness check adds: its attack is in visible text,
# so it survives extraction and reaches the model.
DEFAULT_HOSTILE_CASE = "visible-instruction"
# A local sentence-transformers model directory; without it, independence is lexical only.
EMBED_ENV = "PANEL_EMBED_MODEL"
BOILERPLATE = """\
Cookie notice. We use cookies and similar technologies to remember your preferences, measure
traffic and improve our services. By continuing to browse you agree to our use of cookies. You
can change your settings at any time from the privacy centre.

Footer. About us. Careers. Press. Contact. Terms of service. Privacy policy. Accessibility.
Sitemap. Subscribe to our newsletter for monthly updates. All trademarks are the property of
their respective owners. Copyright 2024. All rights reserved.
"""


def boilerplate_document() -> Document:
    """Irrelevant page furniture (a cookie notice, a footer) as one more document."""
    data = BOILERPLATE.encode("utf-8")
    return Document(
        name="site-footer.txt",
        title="site-footer.txt",
        mime="text/plain",
        data=data,
        origin="file",
        source="eval:boilerplate",
    )


def hostile_document(case: str = DEFAULT_HOSTILE_CASE) -> Document:
    """One hostile page of the red-team corpus, extracted as a review would read it."""
    return load_corpus([case])[0].documents()[1]


def variant_documents(docs: Sequence[Document]) -> dict[str, list[Document]]:
    """The robustness variants of a tool's documents; reversing one document changes nothing,
    so that variant is left out."""
    variants: dict[str, list[Document]] = {}
    if len(docs) > 1:
        variants["reversed"] = list(reversed(docs))
    variants["boilerplate"] = [*docs, boilerplate_document()]
    variants["hostile"] = [*docs, hostile_document()]
    return variants


@dataclass
class Prepared:
    """Every tool's documents and variants, and what running them all should cost."""

    suite: Suite
    samples: int
    docs: dict[str, list[Document]]
    variants: dict[str, dict[str, list[Document]]]
    estimated_usd: float | None
    notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def reviews(self) -> int:
        return sum(self.samples + len(self.variants[slug]) for slug in self.docs)


def tool_documents(
    tool: SuiteTool, settings: Settings, store: Store | None, *, offline: bool
) -> tuple[list[Document], list[str]]:
    """A tool's documents; offline (or when the page cannot be fetched) its description and
    files only, with a note saying so."""
    notes: list[str] = []
    if not offline and tool.url:
        request = Request(sources=[*tool.files, tool.url], description=tool.description)
        try:
            return load_documents(request, settings, store), notes
        except PanelError as exc:
            notes.append(f"{tool.url}: not fetched ({exc}); reviewed from the description")
    docs = [load_file(Path(f)) for f in tool.files]
    if tool.description:
        docs.append(load_description(tool.description))
    return docs, notes


def prepare(
    suite: Suite,
    *,
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    samples: int,
    offline: bool,
    store: Store | None = None,
) -> Prepared:
    """Documents, variants and the estimate, before anything is paid for (URLs are fetched)."""
    docs: dict[str, list[Document]] = {}
    variants: dict[str, dict[str, list[Document]]] = {}
    notes: dict[str, list[str]] = {}
    prices: list[float | None] = []
    for tool in suite.tools:
        found, said = tool_documents(tool, settings, store, offline=offline)
        if not found:
            said.append("no source left offline (a URL only); left out")
            notes[tool.slug] = said
            continue
        docs[tool.slug], notes[tool.slug] = found, said
        variants[tool.slug] = variant_documents(found)
        for count, these in [(samples, found), *((1, v) for v in variants[tool.slug].values())]:
            priced = plan(
                Request(name=tool.name),
                settings=settings,
                personas=personas,
                prompts=prompts,
                docs=these,
            ).cost_usd
            prices.append(None if priced is None else priced * count)
    usd = None if None in prices else round(sum(p or 0.0 for p in prices), 4)
    return Prepared(suite, samples, docs, variants, usd, notes)


async def run_all(
    prepared: Prepared,
    *,
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    client: Client,
    store: Store,
    endpoint: str,
    on_review: Callable[[str, str], None] = lambda tool, what: None,
    concurrency: int = DEFAULT_EVAL_CONCURRENCY,
) -> list[measure.ToolRuns]:
    """Every tool's K plain runs, then its variants; tools run `concurrency` at a time.

    A tool's runs go one after another, so the first writes the cached document prefix and the
    others read it.
    """
    registry = Registry(store, client, endpoint)
    gate = asyncio.Semaphore(concurrency)
    tools = {t.slug: t for t in prepared.suite.tools}

    async def one(tool: SuiteTool, docs: list[Document]) -> measure.ToolRuns:
        async def reviewed(these: list[Document], what: str) -> Run:
            run = await review(
                Request(name=tool.name),
                settings=settings,
                personas=personas,
                prompts=prompts,
                client=client,
                store=store,
                endpoint=endpoint,
                docs=these,
                registry=registry,
            )
            on_review(tool.name, what)
            return run

        async with gate:
            runs = measure.ToolRuns(tool, [], notes=list(prepared.notes.get(tool.slug, [])))
            for i in range(prepared.samples):
                runs.samples.append(await reviewed(docs, f"sample {i + 1}"))
            for name, these in prepared.variants[tool.slug].items():
                runs.variants[name] = await reviewed(these, name)
            return runs

    return list(
        await asyncio.gather(*(one(tools[slug], docs) for slug, docs in prepared.docs.items()))
    )


def local_embedder() -> tuple[measure.Embed | None, str]:
    """Sentence embeddings from a local model, if one is installed and named; else why not."""
    path = os.environ.get(EMBED_ENV, "")
    if not path:
        return None, f"not measured (set {EMBED_ENV} to a local sentence-transformers model)"
    if not Path(path).is_dir():
        return None, f"not measured ({EMBED_ENV}={path} is not a directory)"
    try:
        module = importlib.import_module("sentence_transformers")
    except ImportError:
        return None, "not measured (sentence-transformers is not installed)"
    model = module.SentenceTransformer(path, local_files_only=True)

    def embed(texts: list[str]) -> list[list[float]]:
        return [list(map(float, row)) for row in model.encode(texts)]

    return embed, f"cosine similarity with {Path(path).name}"


def build_report(
    prepared: Prepared,
    runs: Sequence[measure.ToolRuns],
    *,
    settings: Settings,
    personas: Sequence[Persona],
    offline: bool,
    embed: measure.Embed | None = None,
    embeddings: str = "not measured",
) -> EvalReport:
    """The report from the runs (pure, given the runs)."""
    ids = [p.id for p in personas]
    tools = [measure.tool_result(r, ids, settings.ship_threshold) for r in runs]
    agreement = measure.agreement(tools, ids)
    best, beats = measure.best_member(agreement)
    everything = [run for r in runs for run in [*r.samples, *r.variants.values()]]
    costs = [run.cost_usd for run in everything]
    left_out = [
        f"{t.name}: {note}"
        for t in prepared.suite.tools
        if t.slug not in prepared.docs
        for note in prepared.notes.get(t.slug, [])
    ]
    return EvalReport(
        suite=prepared.suite.name,
        model=settings.model,
        samples=prepared.samples,
        offline=offline,
        personas={p.id: p.name for p in personas},
        tools=tools,
        consistency=measure.consistency(tools, ids),
        independence=measure.independence([s for r in runs for s in r.samples], ids, embed=embed),
        echo_threshold=measure.DEFAULT_ECHO_THRESHOLD,
        embeddings=embeddings,
        robustness=measure.robustness(tools, ids),
        agreement=agreement,
        evidence=measure.evidence(everything, ids),
        best_member=best,
        panel_beats_best=beats,
        cost=Cost(
            reviews=len(everything),
            estimated_usd=prepared.estimated_usd,
            spent_usd=None if None in costs else round(sum(c or 0.0 for c in costs), 4),
        ),
        notes=left_out,
    )
