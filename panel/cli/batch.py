"""`panel batch` and `panel export`: a backlog of tools as one resumable job."""

from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape

from panel.api.scheduler import (
    DEFAULT_CONCURRENCY,
    DEFAULT_ITPM,
    DEFAULT_OTPM,
    DEFAULT_RPM,
    UNLIMITED,
    Limits,
)
from panel.cli.app import (
    AllowPrivateOpt,
    CardModelOpt,
    DbOpt,
    HomeOpt,
    ModelOpt,
    PersonasOpt,
    app,
    err,
    json_flag,
    out,
)
from panel.cli.render import INJECTION_MARK, clean, jobs_table, leaderboard
from panel.cli.review import InlineOpt
from panel.config import resolve
from panel.errors import ConfigError, InputError
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.keys import KEY_ENV, missing_key_message
from panel.store.open import existing_store, open_store


@app.command("batch")
def batch_cmd(
    backlog: Annotated[
        Path,
        typer.Argument(
            help="Tools to review: .csv, .jsonl or .yaml with name, url, description, files."
        ),
    ],
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", envvar="PANEL_CONCURRENCY", help="Requests in flight at most."
        ),
    ] = DEFAULT_CONCURRENCY,
    via: Annotated[
        Literal["live", "batches"],
        typer.Option(
            "--via", help="live: Messages API now; batches: Message Batches API, half price."
        ),
    ] = "live",
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            help="Budget in USD for the whole job: no new tool starts once its estimated spend "
            "would pass it.",
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Review failed tools again.")
    ] = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Run the valid rows and list the invalid ones.")
    ] = False,
    job: Annotated[
        str | None,
        typer.Option(
            "--job", help="Job name to create or continue (default: one per backlog file)."
        ),
    ] = None,
    rpm: Annotated[
        float | None,
        typer.Option(
            "--rpm",
            envvar="PANEL_RPM",
            help="Cap on requests per minute per model. Default: learned from the API's "
            f"rate-limit headers, starting at {DEFAULT_RPM}.",
        ),
    ] = None,
    itpm: Annotated[
        float | None,
        typer.Option(
            "--itpm",
            envvar="PANEL_ITPM",
            help="Cap on input tokens per minute (0: none). Default: learned, starting at "
            f"{DEFAULT_ITPM:,}.",
        ),
    ] = None,
    otpm: Annotated[
        float | None,
        typer.Option(
            "--otpm",
            envvar="PANEL_OTPM",
            help="Cap on output tokens per minute (0: none). Default: learned, starting at "
            f"{DEFAULT_OTPM:,}.",
        ),
    ] = None,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="With --via batches: submit, collect what has already ended, and exit; run the "
            "same command again (see `panel jobs`) to collect the rest.",
        ),
    ] = False,
    poll: Annotated[
        float,
        typer.Option(
            "--poll", envvar="PANEL_BATCH_POLL", help="Seconds between batch status checks."
        ),
    ] = 10.0,
    batch_cache: Annotated[
        str,
        typer.Option(
            "--batch-cache",
            envvar="PANEL_BATCH_CACHE",
            help="With --via batches, how requests share the documents' prompt cache. warm: one "
            "persona per tool writes it in a first batch, the others read it in a second (cheapest, "
            "two batches' wait); none: one batch, no caching; 5m, 1h: one batch, every request "
            "writes.",
        ),
    ] = "warm",
    inline_documents: InlineOpt = False,
    model: ModelOpt = None,
    card_model: CardModelOpt = None,
    json_out: Annotated[
        bool, json_flag("Print the job summary (counts, spend, leaderboard) as JSON.")
    ] = False,
    allow_private: AllowPrivateOpt = False,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """Review a backlog of tools: resumable (run it again to continue), sharing one rate limiter.

    Exit status: 0 when every tool has a run (or the budget stopped it cleanly), 1 when some tools
    failed (rerun with --retry-failed), 2 on an invalid backlog or setup.
    """
    from panel.api.client import Client, endpoint
    from panel.batch import backlog as backlogs
    from panel.batch.context import BATCH_CACHES, Options, snapshot
    from panel.batch.finished import FinishedTools
    from panel.batch.jobs import Jobs, job_id_for
    from panel.batch.locks import exclusive
    from panel.batch.runner import needs_api, no_calls, run_job
    from panel.cli.progress import job_progress

    if via not in ("live", "batches"):
        raise InputError(f"--via {via!r}: use live or batches")
    if batch_cache not in BATCH_CACHES:
        raise InputError(
            f"--batch-cache (PANEL_BATCH_CACHE) {batch_cache!r}: use one of {', '.join(BATCH_CACHES)}"
        )
    if no_wait and via != "batches":
        raise InputError("--no-wait needs --via batches (a live job runs while you wait)")
    check_options(
        concurrency=concurrency, rpm=rpm, itpm=itpm, otpm=otpm, poll=poll, max_cost=max_cost
    )
    settings = resolve(
        home=home,
        model=model,
        card_model=card_model,
        personas_dir=personas_dir,
        allow_private=allow_private,
    )
    personas = load_personas(settings.personas_dir)
    prompts = Prompts(settings.prompts_dir)
    loaded = backlogs.load(backlog, skip_invalid=skip_invalid)
    for problem in loaded.errors:
        err.print(f"panel: skipping invalid row: {escape(str(problem))}", highlight=False)
    limits = Limits(
        concurrency=concurrency,
        rpm=rpm,
        itpm=UNLIMITED if itpm == 0 else itpm,
        otpm=UNLIMITED if otpm == 0 else otpm,
    )
    options = Options(
        via=via,  # type: ignore[arg-type]
        limits=limits,
        max_cost=max_cost,
        retry_failed=retry_failed,
        poll_s=poll,
        wait=not no_wait,
        inline_documents=inline_documents,
        batch_cache=batch_cache,  # type: ignore[arg-type]
    )
    store = open_store(settings.home, url=db)
    job_id = job_id_for(backlog, job)
    if not needs_api(store, job_id, loaded.rows, retry_failed=retry_failed):
        client = no_calls()  # a finished job: its summary needs no key and calls no API
    elif not os.environ.get(KEY_ENV):
        raise ConfigError(missing_key_message())
    else:
        client = Client()
    shared = store.dialect == "postgres"  # workers on several machines lease items
    jobs = Jobs(store)
    tracker = FinishedTools()
    tracker.new(jobs, job_id)  # what finished before this run is not named again
    with (
        exclusive(store, job_id, shared=shared),
        job_progress(err, lambda: tracker.new(jobs, job_id)) as progress,
    ):
        result = asyncio.run(
            run_job(
                loaded.rows,
                backlog,
                settings=settings,
                personas=personas,
                prompts=prompts,
                store=store,
                options=options,
                job_id=job_id,
                client=client,
                endpoint=endpoint(),
                on_change=lambda ctx: progress(snapshot(ctx)),
            )
        )
    if json_out:
        import json

        print(json.dumps(result, indent=2))
    else:
        print_job(result)
    err.print(
        f"panel: job {result['job_id']}: {result['counts']['done']} tools recorded in "
        f"{escape(store.where)}; `panel export {result['job_id']} --csv -` lists them",
        highlight=False,
    )
    if result["status"] == "failed":
        raise typer.Exit(1)


def check_options(
    *,
    concurrency: int,
    rpm: float | None,
    itpm: float | None,
    otpm: float | None,
    poll: float,
    max_cost: float | None,
) -> None:
    """Limits the scheduler can work with: a zero rate would wait forever, a negative one is noise.

    Checked here rather than by typer's `min=`, whose refusal is a boxed usage message.
    """
    checks: list[tuple[str, str | None, float | None, bool]] = [  # flag, env, value, zero ok
        ("--concurrency", "PANEL_CONCURRENCY", concurrency, False),
        ("--rpm", "PANEL_RPM", rpm, False),
        ("--itpm", "PANEL_ITPM", itpm, True),
        ("--otpm", "PANEL_OTPM", otpm, True),
        ("--poll", "PANEL_BATCH_POLL", poll, False),
        ("--max-cost", None, max_cost, True),
    ]
    for flag, env, value, zero_ok in checks:
        if value is None or (math.isfinite(value) and (value >= 0 if zero_ok else value > 0)):
            continue
        source = f" (from {flag} or {env})" if env else ""
        bound = "0 or more" if zero_ok else "more than 0"
        raise InputError(f"{flag} {value:g}: must be {bound}{source}")


def print_job(result: dict) -> None:  # type: ignore[type-arg]
    c = result["counts"]
    out.print(leaderboard(result["leaderboard"], title=f"job {result['job_id']}"))
    out.print(
        f"\n{c['done']} done · {c['failed']} failed · {c['pending']} not started · "
        f"{result['tokens']:,} tokens · ${result['cost_usd']:.4f} · {result['elapsed_s']:.1f}s"
        f" · {result['uploads']} uploads · {result['rate_limited']} rate-limited",
        highlight=False,
    )
    flagged = sum(1 for row in result["leaderboard"] if row.get("injection_suspected"))
    if flagged:
        err.print(
            f"panel: {INJECTION_MARK}: {flagged} tool(s) had a document that tried to instruct "
            "the panel; read their reviews with `panel show TOOL`",
            highlight=False,
        )
    for f in result["failed"]:
        reason = f"panel: failed: {clean(f['name'])}: {clean(f['error'])}"
        err.print(escape(reason), highlight=False)
    if result["status"] == "submitted":
        err.print(
            f"panel: job {result['job_id']} submitted: {c['pending']} tools in the API's batches; "
            "run the same command again to collect them (`panel jobs` shows where they are)"
        )
    elif result["status"] == "budget":
        err.print(
            f"panel: stopped at --max-cost with {c['pending']} tools not started; "
            "run the same command with a higher --max-cost to continue"
        )
    elif result["status"] == "failed":
        err.print("panel: some tools failed; run the same command with --retry-failed to redo them")


@app.command("export")
def export_cmd(
    job: Annotated[str, typer.Argument(help="The job id (`panel jobs` lists them).")],
    csv_path: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="Write every tool's card, label, scores and decisions here; - for stdout."
        ),
    ] = None,
    json_out: Annotated[
        bool, json_flag("Print the same rows as a JSON array of objects on stdout.")
    ] = False,
    home: HomeOpt = None,
    db: DbOpt = None,
) -> None:
    """Export a batch job: one row per tool (card, label, scores, decisions); needs no key."""
    import sys

    from panel.batch.export import export_rows, write_csv

    if (csv_path is None) == (not json_out):
        raise InputError("give one of --csv FILE (- for stdout) or --json")
    store = existing_store(resolve(home=home).home, url=db)
    header, rows = export_rows(store, job)
    if json_out:
        import json

        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif csv_path is not None and str(csv_path) == "-":
        write_csv(sys.stdout, header, rows)
    elif csv_path is not None:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        with csv_path.open("w", newline="", encoding="utf-8") as fh:
            write_csv(fh, header, rows)
        err.print(f"panel: wrote {len(rows)} tools to {escape(str(csv_path))}", highlight=False)


@app.command("jobs")
def jobs_cmd(
    json_out: Annotated[bool, json_flag("Print every job as a JSON array.")] = False,
    home: HomeOpt = None,
    db: DbOpt = None,
) -> None:
    """Every batch job: its state, counts, what is still in the API's batches, and spend so far."""
    from panel.batch.jobs import Jobs

    store = existing_store(resolve(home=home).home, url=db)
    rows = Jobs(store).overview()
    if json_out:
        import json

        print(json.dumps(rows, indent=2))
        return
    if not rows:
        err.print("panel: no batch jobs yet; start one with `panel batch BACKLOG`")
        return
    table = jobs_table(rows, out.width)
    out.print(table)
