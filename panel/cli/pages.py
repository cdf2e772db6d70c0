"""`panel compare`, `panel site` and the page formats of `panel show`: pages from stored runs only."""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from panel.cli.app import DbOpt, HomeOpt, ModelOpt, PersonasOpt, app, err, out
from panel.cli.judging import DryRunOpt, JudgeOpt, MaxCostOpt, judge_pairs, pairwise_table
from panel.cli.render import DECISION_STYLE, clean
from panel.config import resolve
from panel.errors import InputError
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.model.run import Run
from panel.pages.links import safe_href
from panel.pages.views import CompareView, compare_view
from panel.store.faults import storage_fault
from panel.store.open import existing_store
from panel.store.pairs import latest_pairwise
from panel.store.records import write_atomic
from panel.store.sqlite import Store

PROMPTS = ("system", "persona", "card", "repair")


class PageFormat(StrEnum):
    text = "text"
    html = "html"
    md = "md"


class CompareFormat(StrEnum):
    text = "text"
    html = "html"
    md = "md"
    json = "json"


OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write the page to FILE instead of printing it."),
]


def emit_page(page: str, dest: Path | None) -> None:
    """A page on stdout (without control characters: a terminal may be reading), or written
    atomically to `dest` with one line saying where."""
    if dest is None:
        page = clean(page)
        print(page, end="" if page.endswith("\n") else "\n")
        return
    try:
        write_atomic(dest, page, shared=True)
    except OSError as exc:
        fault = storage_fault(exc)
        raise fault or InputError(f"--out {dest}: cannot write ({exc.strerror or exc})") from exc
    err.print(f"wrote {dest}", highlight=False)


def two_runs(store: Store, a: str, b: str) -> tuple[Run, Run]:
    """A and B as tool names, slugs (their latest runs) or run ids; two different tools."""
    ra, rb = store.run_for(a), store.run_for(b)
    if ra.tool.slug == rb.tool.slug:
        raise InputError(
            f"{a!r} and {b!r} are both {ra.tool.slug!r}: compare two tools, "
            "or use `panel diff` for two runs of one tool"
        )
    return ra, rb


def compare_table(view: CompareView) -> RenderableType:
    """The comparison in the terminal: the Decision table, then each persona's two verdicts."""
    decision = Table(title=clean(view.title), title_justify="left", show_lines=True, expand=True)
    decision.add_column("Decision", style="bold", no_wrap=True)
    decision.add_column(Text(clean(view.a.card.name)))
    decision.add_column(Text(clean(view.b.card.name)))
    for label, left, right in view.decision_rows:
        decision.add_row(label, Text(clean(left)), Text(clean(right)))
    scorecard = Table(
        title="Reviewer scorecard", title_justify="left", show_lines=True, expand=True
    )
    scorecard.add_column("Reviewer", style="bold", no_wrap=True)
    scorecard.add_column(Text(clean(view.a.card.name)), ratio=1)
    scorecard.add_column(Text(clean(view.b.card.name)), ratio=1)
    for pair in view.personas:
        cells = [
            Text.assemble(
                (row.headline, DECISION_STYLE.get(row.tone, "bold")), "\n", clean(row.paragraph)
            )
            for row in (pair.a, pair.b)
        ]
        scorecard.add_row(Text(clean(pair.name)), *cells)
    if view.pairwise is not None:
        return Group(decision, Text(""), pairwise_table(view.pairwise), Text(""), scorecard)
    return Group(decision, Text(""), scorecard)


@app.command("compare")
def compare_cmd(
    tool_a: Annotated[
        str, typer.Argument(help="A tool's name or slug (its latest run), or a run id.")
    ],
    tool_b: Annotated[str, typer.Argument(help="The other tool, the same way.")],
    fmt: Annotated[
        CompareFormat,
        typer.Option("--format", "-f", help="text (a table), html, md (Markdown) or json."),
    ] = CompareFormat.text,
    json_out: Annotated[bool, typer.Option("--json", "-j", help="Same as --format json.")] = False,
    dest: OutOpt = None,
    judge: JudgeOpt = False,
    dry_run: DryRunOpt = False,
    max_cost: MaxCostOpt = None,
    model: ModelOpt = None,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """A vs B: which should you ship? Both panels side by side, from the records, with the latest
    pairwise verdict if one is stored; `--judge` asks the panel for a new one (API calls)."""
    from panel.pages import compare_html, compare_markdown

    if (dry_run or max_cost is not None or model is not None) and not judge:
        raise InputError("--dry-run, --max-cost and --model go with --judge")
    settings = resolve(home=home, model=model, personas_dir=personas_dir)
    store = existing_store(settings.home, writable=judge and not dry_run, url=db)
    a, b = two_runs(store, tool_a, tool_b)
    personas = load_personas(settings.personas_dir)
    if judge:
        prompts = Prompts(settings.prompts_dir)
        if not judge_pairs(
            [(a, b)],
            settings=settings,
            personas=personas,
            prompts=prompts,
            store=store,
            max_cost=max_cost,
            dry_run=dry_run,
        ):
            return  # a dry run: the estimate was the answer
    pairwise = latest_pairwise(store, a.tool.slug, b.tool.slug)
    votes_a, votes_b = store.votes(a.tool.slug), store.votes(b.tool.slug)
    fmt = CompareFormat.json if json_out else fmt
    if fmt is CompareFormat.html:
        emit_page(compare_html(a, b, personas, votes_a, votes_b, pairwise), dest)
    elif fmt is CompareFormat.md:
        emit_page(compare_markdown(a, b, personas, votes_a, votes_b, pairwise), dest)
    else:
        view = compare_view(a, b, personas, votes_a, votes_b, pairwise)
        if fmt is CompareFormat.json:
            data = {
                "runs": [a.run_id, b.run_id],
                **dataclasses.asdict(view),
                "pairwise_record": None if pairwise is None else pairwise.model_dump(mode="json"),
            }
            emit_page(json.dumps(data, indent=2, ensure_ascii=False), dest)
        elif dest is not None:
            raise InputError("--out needs --format html, md or json")
        else:
            out.print(compare_table(view))


@app.command("site")
def site_cmd(
    outdir: Annotated[Path, typer.Argument(help="Directory to write the site into.")],
    pairs_file: Annotated[
        Path | None,
        typer.Option("--pairs", help="Comparisons to publish: two tool names a line ('A vs B')."),
    ] = None,
    site_url: Annotated[
        str | None,
        typer.Option(
            "--site-url", help="Where the site will live, for absolute links in the feed."
        ),
    ] = None,
    judge: JudgeOpt = False,
    dry_run: DryRunOpt = False,
    max_cost: MaxCostOpt = None,
    model: ModelOpt = None,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """Write a static site: index, every tool's page, comparisons, methodology and an Atom feed.

    It opens from file:// and works offline. OUT is a link to the latest complete build (kept in
    .OUT.builds/ beside it), swapped in whole, so readers never see half a site; only the pages
    whose records, votes, personas or templates changed are rendered again.
    With --judge, each comparison in --pairs is first asked of the panel and recorded.
    """
    from panel.pages import build_site, parse_pairs

    if judge and pairs_file is None:
        raise InputError("--judge compares the pairs in --pairs FILE: give one")
    if (dry_run or max_cost is not None or model is not None) and not judge:
        raise InputError("--dry-run, --max-cost and --model go with --judge")
    settings = resolve(home=home, model=model, personas_dir=personas_dir)
    store = existing_store(settings.home, writable=judge and not dry_run, url=db)
    if site_url is not None and safe_href(site_url) is None:
        raise InputError(f"--site-url {site_url!r}: give an absolute http(s) URL")
    pairs = parse_pairs(pairs_file) if pairs_file is not None else []
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir}: exists and is not a directory")
    prompts = Prompts(settings.prompts_dir)
    if judge:
        runs = [two_runs(store, x, y) for x, y in pairs]
        if not judge_pairs(
            runs,
            settings=settings,
            personas=load_personas(settings.personas_dir),
            prompts=prompts,
            store=store,
            max_cost=max_cost,
            dry_run=dry_run,
        ):
            return  # a dry run
    versions = {name: prompts.version(name) for name in PROMPTS}
    try:
        report = build_site(
            store, outdir, load_personas(settings.personas_dir), versions, pairs, site_url=site_url
        )
    except OSError as exc:
        fault = storage_fault(exc)
        raise fault or InputError(
            f"{outdir}: cannot write the site ({exc.strerror or exc})"
        ) from exc
    for problem in report.problems:
        err.print(f"panel: warning: {escape(problem)}; left out", highlight=False, soft_wrap=True)
    out.print(
        f"site: {len(report.written)} written, {len(report.unchanged)} unchanged in {outdir}; "
        f"open {outdir / 'index.html'}",
        highlight=False,
        soft_wrap=True,
    )


def show_page(
    store: Store, run: Run, fmt: PageFormat, dest: Path | None, personas_dir: Path | None
) -> None:
    """`panel show --format html|md`: the review page of one run, with its tool's score history."""
    from panel.pages import review_html, review_markdown

    runs = [store.load_run(rid) for rid in store.run_ids(run.tool.slug)]
    runs = [r for r in runs if r.created_at <= run.created_at] or [run]
    render = review_html if fmt is PageFormat.html else review_markdown
    personas = load_personas(personas_dir)
    emit_page(render(run, runs, personas, store.votes(run.tool.slug)), dest)
