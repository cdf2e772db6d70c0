"""`panel review`, `panel rerun` and `panel personas`: parsing and printing; the work is in judge/."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from panel.cli.app import (
    AllowPrivateOpt,
    CardModelOpt,
    DbOpt,
    HomeOpt,
    JsonOpt,
    ModelOpt,
    PersonasOpt,
    app,
    err,
    json_flag,
    out,
)
from panel.cli.render import clean, diff_view, persona_names, print_run
from panel.config import DEFAULT_SAMPLES, Settings, check_samples, model_id, resolve
from panel.errors import InputError
from panel.judge.personas import Persona, load_personas
from panel.judge.prompts import Prompts
from panel.model.run import Run
from panel.sources.documents import Document
from panel.store.diff import diff_runs
from panel.store.open import open_store
from panel.store.records import RecordNotSaved, dumps
from panel.store.sqlite import Store

# Commands that call the API import the SDK when they run (it takes about a second to import),
# so that show, history, list and diff start at once.
if TYPE_CHECKING:
    from panel.api.client import Client
    from panel.judge.review import Plan, Request

MaxCostOpt = Annotated[
    float | None,
    typer.Option(
        "--max-cost",
        metavar="USD",
        help="Refuse before any call when the estimated cost is more than this.",
        show_default=False,
    ),
]
SamplesOpt = Annotated[
    int,
    typer.Option(
        "--samples",
        metavar="K",
        help="Ask each persona K times (K calls each, one cache write): its verdict is the median "
        'score and the majority decision, shown with the spread ("74 ± 3").',
    ),
]
InlineOpt = Annotated[
    bool,
    typer.Option(
        "--inline-documents",
        help="Send documents as text in the messages instead of uploading them (for servers "
        "without a Files API: Ollama, vLLM, llama.cpp). Automatic when an upload answers 404 "
        "at a custom ANTHROPIC_BASE_URL. PDFs cannot be inlined.",
    ),
]


@app.command("review")
def review_cmd(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files (.txt .md .pdf .html), URLs, or '-' for stdin.", show_default=False
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="The tool's name (default: derived from the sources)."),
    ] = None,
    description: Annotated[
        str | None,
        typer.Option("--description", help="Pasted text about the tool, as one more document."),
    ] = None,
    model: ModelOpt = None,
    card_model: CardModelOpt = None,
    json_out: JsonOpt = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show what would be sent and its estimated cost; needs no key."
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="With --dry-run: also print every prompt."),
    ] = False,
    max_cost: MaxCostOpt = None,
    samples: SamplesOpt = DEFAULT_SAMPLES,
    inline_documents: InlineOpt = False,
    allow_private: AllowPrivateOpt = False,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """Review a tool with the panel and record the run.

    Exit status: 0 when the panel decided, 1 when it is incomplete (too few verdicts), 2 on bad input.
    """
    from panel.judge.review import Request, load_documents

    check_max_cost(max_cost)
    check_samples(samples)
    settings = resolve(
        home=home,
        model=model,
        card_model=card_model,
        personas_dir=personas_dir,
        allow_private=allow_private,
    )
    settings = replace(settings, samples=samples)
    personas = load_personas(settings.personas_dir)
    prompts = Prompts(settings.prompts_dir)
    request = Request(sources=sources or [], description=description, name=name)
    if dry_run:
        print_plan(request, settings, personas, prompts, json_out, verbose, inline_documents)
        return
    from panel.api.client import Client

    client = Client()  # fails fast without a key, before anything is read or uploaded
    store = open_store(settings.home, url=db)
    docs = load_documents(request, settings, store)
    refuse_over_budget(max_cost, request, docs, settings, personas, prompts)
    try:
        run = run_panel(
            request, docs, settings, personas, prompts, client, store, inline=inline_documents
        )
    except RecordNotSaved as exc:
        show_unsaved(exc, json_out, personas)
        raise
    if json_out:
        print(run.model_dump_json(indent=2))
    else:
        print_run(out, run, persona_names(personas))
    exit_if_incomplete(run)


def show_unsaved(exc: RecordNotSaved, json_out: bool, personas: list[Persona]) -> None:
    """A paid run that could not be recorded is still printed, before the one-line error."""
    if not json_out:
        print_run(out, exc.run, persona_names(personas))
    if json_out or exc.fallback is None:
        print(exc.run.model_dump_json(indent=2))


def run_panel(
    request: Request,
    docs: list[Document],
    settings: Settings,
    personas: list[Persona],
    prompts: Prompts,
    client: Client,
    store: Store,
    *,
    inline: bool = False,
) -> Run:
    """The panel over loaded documents, with live progress on a terminal; the run is recorded."""
    from panel.api.client import endpoint
    from panel.api.registry import Registry
    from panel.cli.progress import live_progress
    from panel.judge.review import review

    def waiting(doc: Document) -> None:
        err.print(
            f"panel: {escape(clean(doc.name))} is being uploaded by another panel on this data "
            "home; waiting for its file id",
            highlight=False,
        )

    here = endpoint()
    registry = Registry(store, client, here, inline=inline, on_wait=waiting)
    with live_progress(personas, err) as on_event:
        run = asyncio.run(
            review(
                request,
                settings=settings,
                personas=personas,
                prompts=prompts,
                client=client,
                store=store,
                endpoint=here,
                docs=docs,
                on_event=on_event,
                registry=registry,
                inline_documents=inline,
            )
        )
    err.print(f"panel: recorded run {run.run_id} in {escape(store.where)}", highlight=False)
    return run


def check_max_cost(max_cost: float | None) -> None:
    if max_cost is not None and not max_cost > 0:
        raise InputError(f"--max-cost {max_cost}: must be more than 0 (USD)")


def refuse_over_budget(
    max_cost: float | None,
    request: Request,
    docs: list[Document],
    settings: Settings,
    personas: list[Persona],
    prompts: Prompts,
) -> None:
    """`--max-cost`: the estimate (caching counted) against the budget, before any API call."""
    if max_cost is None:
        return
    from panel.judge.review import plan

    estimate = plan(request, settings=settings, personas=personas, prompts=prompts, docs=docs)
    if estimate.cost_usd is None:
        raise InputError(
            f"--max-cost: price unknown for {settings.model} or {settings.card_model} "
            "(not in prices.toml), so the budget cannot be checked; nothing was sent"
        )
    if estimate.cost_usd > max_cost:
        raise InputError(
            f"estimated ${estimate.cost_usd:.4f} is more than --max-cost ${max_cost:.4f}; "
            "nothing was sent"
        )


def exit_if_incomplete(run: Run) -> None:
    """Exit 1 after printing when too few personas answered; the run is kept either way."""
    if run.panel.decision == "incomplete":
        err.print(
            f"panel: incomplete: only {run.panel.ship + run.panel.skip} of {len(run.verdicts)} "
            f"personas answered (run {run.run_id} kept)"
        )
        raise typer.Exit(1)


@app.command("rerun")
def rerun_cmd(
    tool: Annotated[str, typer.Argument(help="The tool's slug or name, as `panel list` shows it.")],
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="New files, URLs or '-' to add to the previous sources.", show_default=False
        ),
    ] = None,
    drop: Annotated[
        list[str] | None,
        typer.Option(
            "--drop", help="A previous source to leave out: path, URL or 'description'. Repeatable."
        ),
    ] = None,
    description: Annotated[
        str | None,
        typer.Option(
            "--description", help="Pasted text about the tool; replaces the previous description."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model for the persona calls: an id or an alias. Default: the previous run's.",
        ),
    ] = None,
    card_model: CardModelOpt = None,
    json_out: Annotated[
        bool,
        json_flag('Print {"run": ..., "diff": ...} instead of the scorecard.'),
    ] = False,
    max_cost: MaxCostOpt = None,
    samples: SamplesOpt = DEFAULT_SAMPLES,
    inline_documents: InlineOpt = False,
    allow_private: AllowPrivateOpt = False,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """Review a tool again: previous sources, plus new ones, minus dropped ones; show what moved.

    Files are read again and URLs fetched again conditionally; unchanged documents reuse their
    uploads. Exit status: 0 when the panel decided, 1 when incomplete, 2 on bad input.
    """
    from panel.api.client import Client
    from panel.judge.rerun import Changes, previous_run, rerun_documents, rerun_request

    check_max_cost(max_cost)
    check_samples(samples)
    settings = resolve(
        home=home, card_model=card_model, personas_dir=personas_dir, allow_private=allow_private
    )
    store = open_store(settings.home, url=db)
    previous = previous_run(store, tool)
    settings = replace(
        settings, model=model_id(model) if model else previous.model, samples=samples
    )
    personas = load_personas(settings.personas_dir)
    prompts = Prompts(settings.prompts_dir)
    client = Client()
    changes = Changes(sources=sources or [], drop=drop or [], description=description)
    docs = rerun_documents(previous, changes, settings, store)
    request = rerun_request(previous)
    refuse_over_budget(max_cost, request, docs, settings, personas, prompts)
    try:
        run = run_panel(
            request, docs, settings, personas, prompts, client, store, inline=inline_documents
        )
    except RecordNotSaved as exc:
        show_unsaved(exc, json_out, personas)
        raise
    diff = diff_runs(previous, run)
    if json_out:
        print(dumps({"run": run.model_dump(mode="json"), "diff": diff.model_dump(mode="json")}))
    else:
        names = persona_names(personas)
        print_run(out, run, names)
        out.print(diff_view(diff, names))
    exit_if_incomplete(run)


def print_plan(
    request: Request,
    settings: Settings,
    personas: list[Persona],
    prompts: Prompts,
    json_out: bool,
    verbose: bool = False,
    inline: bool = False,
) -> None:
    """`--dry-run`: the estimate first (input counted by the API when a key is set), then what
    would be sent; the prompts themselves with --verbose (always in --json)."""
    import os

    from panel.judge.review import count_plan, plan

    p = plan(request, settings=settings, personas=personas, prompts=prompts)
    if os.environ.get("ANTHROPIC_API_KEY"):
        from panel.api.client import Client

        p = asyncio.run(count_plan(p, Client(), settings, inline=inline))
    if json_out:
        print(dumps(plan_json(p)))
        return
    out.print(plan_estimate(p), soft_wrap=True)
    # names and prompts carry text from the documents: no control character reaches the terminal
    out.print(
        f"\n[bold]Dry run[/]: {escape(clean(p.name))} ({p.slug}) with {escape(p.model)}; "
        "nothing is sent."
    )
    how = "sent inline as text" if inline else "uploaded once each, referenced by every call"
    out.print(f"[bold]Documents[/] ({how}):")
    for d in p.documents:
        out.print(
            f"  {escape(clean(d.name))}  {d.mime}  {len(d.data):,} bytes  sha256 {d.sha256[:16]}…"
        )
    if not verbose:
        out.print("\nThe prompts: --verbose.", style="dim")
        return
    out.print("\n[bold]System prompt[/] (identical for every persona):")
    out.print(escape(clean(p.system)), highlight=False)
    for pid, text in p.instructions.items():
        out.print(f"\n[bold]{pid}[/]:")
        out.print(escape(clean(text)), highlight=False)


def plan_estimate(p: Plan) -> str:
    """The estimate's lines: the total, then tokens by kind per model."""
    how = "input counted by the API" if p.counted else "input estimated from sizes"
    lines = [f"[bold]Estimate[/]: {money(p.cost_usd)} ({how}; output a third of max_tokens)"]
    if p.samples > 1:
        lines.append(f"  {p.samples} samples a persona: {p.samples} calls each, one cache write")
    for model, u in p.estimate.models.items():
        lines.append(
            f"  {model}: {u.input_tokens:,} in · {u.cache_creation_input_tokens:,} cache write"
            f" · {u.cache_read_input_tokens:,} cache read · {u.output_tokens:,} out"
            f" · {money(u.cost_usd)}"
        )
    return "\n".join(lines)


def money(usd: float | None) -> str:
    return "price unknown" if usd is None else f"${usd:.4f}"


def plan_json(p: Plan) -> dict[str, object]:
    return {
        "dry_run": True,
        "tool": {"name": p.name, "slug": p.slug},
        "model": p.model,
        "samples": p.samples,
        "estimate": {
            "input_tokens": p.input_tokens,
            "output_tokens": p.output_tokens,
            "cost_usd": p.cost_usd,
            "counted": p.counted,
            "usage": p.estimate.model_dump(mode="json"),
        },
        "documents": [
            {"name": d.name, "mime": d.mime, "size_bytes": len(d.data), "sha256": d.sha256}
            for d in p.documents
        ],
        "system": p.system,
        "instructions": p.instructions,
    }


@app.command("personas")
def personas_cmd(
    personas_dir: PersonasOpt = None,
    json_out: Annotated[bool, json_flag("Print the personas as a JSON array.")] = False,
) -> None:
    """List the panel's personas and the lens each reviews through."""
    personas = load_personas(resolve(personas_dir=personas_dir).personas_dir)
    if json_out:
        import json

        print(json.dumps([p.model_dump() for p in personas], indent=2))
        return
    for p in personas:
        out.print(f"[bold]{p.name}[/] ({p.id}, v{p.version}): {escape(p.summary)}")
        for q in p.lens:
            out.print(f"  - {escape(q)}")
