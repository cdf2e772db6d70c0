"""Read-only commands over recorded runs: show, history, list, diff. No key, no API call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import RenderableType
from rich.markup import escape

from panel.cli import lines
from panel.cli.app import DbOpt, HomeOpt, PersonasOpt, app, err, json_flag, out
from panel.cli.pages import OutOpt, PageFormat, show_page
from panel.cli.render import (
    diff_view,
    history_view,
    persona_names,
    scorecard,
    suspected,
    tools_lines,
    tools_view,
)
from panel.config import resolve
from panel.errors import InputError
from panel.judge.personas import load_personas
from panel.store.diff import diff_runs
from panel.store.history import history
from panel.store.open import database_url, existing_store
from panel.store.records import dumps
from panel.store.sqlite import DB_NAME


def emit(
    record: BaseModel,
    json_out: bool,
    view: Callable[[dict[str, str]], RenderableType],
    personas_dir: Path | None,
) -> None:
    """A record as JSON, or its view with the personas' display names."""
    if json_out:
        print(record.model_dump_json(indent=2))
    else:
        out.print(view(persona_names(load_personas(personas_dir))))


RunRef = Annotated[
    str,
    typer.Argument(
        help="A tool's name or slug (its latest run), TOOL~1 (the run before), or a run id or "
        "a unique start of one."
    ),
]


@app.command("show")
def show_cmd(
    run_ref: RunRef,
    fmt: Annotated[
        PageFormat,
        typer.Option("--format", "-f", help="text (the scorecard), html or md (the review page)."),
    ] = PageFormat.text,
    dest: OutOpt = None,
    json_out: Annotated[bool, json_flag("Print the run record as one JSON object.")] = False,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """Show one recorded run: the scorecard, or its review page; needs no key and calls no API."""
    settings = resolve(home=home, personas_dir=personas_dir)
    store = existing_store(settings.home, url=db)
    run = store.run_for(run_ref)
    if fmt is not PageFormat.text and not json_out:
        show_page(store, run, fmt, dest, settings.personas_dir)
    elif dest is not None:
        raise InputError("--out needs --format html or md")
    else:
        emit(run, json_out, lambda names: scorecard(run, names), settings.personas_dir)


@app.command("history")
def history_cmd(
    tool: Annotated[str, typer.Argument(help="The tool's slug or name.")],
    json_out: Annotated[
        bool, json_flag("Print the runs and per-persona trends as one JSON object.")
    ] = False,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """Every run of a tool, oldest first, with a score trend per persona; calls no API."""
    settings = resolve(home=home, personas_dir=personas_dir)
    store = existing_store(settings.home, url=db)
    problems: list[str] = []
    runs = store.readable_runs(store.runs_of(tool), problems)
    for problem in problems:
        err.print(f"panel: warning: {escape(problem)}; left out", highlight=False, soft_wrap=True)
    if not runs:
        raise InputError(f"no readable runs of {tool!r}: {problems[-1]}")
    h = history(runs)
    flagged = frozenset(run.run_id for run in runs if suspected(run))
    if json_out:  # each run says whether its panel suspected prompt injection
        data = h.model_dump(mode="json")
        for entry in data["runs"]:
            entry["injection_suspected"] = entry["run_id"] in flagged
        print(dumps(data))
    else:
        emit(h, False, lambda names: history_view(h, names, flagged), settings.personas_dir)


@app.command("list")
def list_cmd(
    json_out: Annotated[bool, json_flag("Print the tools as a JSON array.")] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", min=1, help="Only the N most recently reviewed tools."),
    ] = None,
    home: HomeOpt = None,
    db: DbOpt = None,
) -> None:
    """Every tool reviewed, with its latest label, mean score and date; calls no API.

    A table on a terminal; plain aligned lines into a pipe or a file, or past 200 tools.
    """
    settings = resolve(home=home)
    has_runs = database_url(db) is not None or (settings.home / DB_NAME).exists()
    rows = existing_store(settings.home, url=db).tool_rows() if has_runs else []
    rows = rows[:limit] if limit is not None else rows
    if json_out:
        print(dumps([r.model_dump() for r in rows]))
    elif not rows:
        err.print("panel: no runs yet; start with `panel review FILE|URL`")
    elif lines.as_table(out, len(rows)):
        out.print(tools_view(rows))
    else:
        lines.write(tools_lines(rows, out.width))


@app.command("diff")
def diff_cmd(
    run_a: Annotated[
        str,
        typer.Argument(
            help="The earlier run: a run id or its start, TOOL~1, or a tool alone (its last two "
            "runs)."
        ),
    ],
    run_b: Annotated[
        str | None,
        typer.Argument(help="The later run: a run id or its start, a tool (its latest), TOOL~N."),
    ] = None,
    json_out: Annotated[bool, json_flag("Print the differences as one JSON object.")] = False,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """What changed between two runs of one tool; computed from the records, no API call.

    `panel diff TOOL` compares its last two runs.
    """
    settings = resolve(home=home, personas_dir=personas_dir)
    store = existing_store(settings.home, url=db)
    if run_b is None:
        ids = store.runs_of(run_a)
        if len(ids) < 2:
            raise InputError(f"{run_a!r} has one run; nothing to compare it with yet")
        run_a, run_b = ids[-2], ids[-1]
    diff = diff_runs(store.run_for(run_a), store.run_for(run_b))
    emit(diff, json_out, lambda names: diff_view(diff, names), settings.personas_dir)
