"""`panel cost`: spend from the stored runs, per tool, per model and in total. No key, no API call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from panel.cli import lines
from panel.cli.app import DbOpt, HomeOpt, JsonOpt, app, out
from panel.cli.render import clean
from panel.config import resolve
from panel.errors import InputError
from panel.judge.spend import Report, Spend, report
from panel.store.open import existing_store


@app.command("cost")
def cost_cmd(
    tool: Annotated[
        str | None,
        typer.Argument(
            help="Only this tool (slug or name). Default: every tool.", show_default=False
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="Only runs from this day on (YYYY-MM-DD)."),
    ] = None,
    json_out: JsonOpt = False,
    home: HomeOpt = None,
    db: DbOpt = None,
) -> None:
    """What the recorded runs cost, per tool, per model and in total, and what caching and batches
    saved against list price (every input token at the input price, no batch discount).

    A table on a terminal; plain aligned lines into a pipe or a file, or past 200 tools.
    """
    if since is not None:
        try:
            since = date.fromisoformat(since).isoformat()
        except ValueError:
            raise InputError(f"--since {since!r}: not a date (YYYY-MM-DD)") from None
    store = existing_store(resolve(home=home).home, url=db)
    run_ids = store.runs_of(tool) if tool else store.all_run_ids()
    problems: list[str] = []
    spent = report(store.readable_runs(run_ids, problems), since=since)
    if json_out:
        print(spent.model_dump_json(indent=2))
        return
    if lines.as_table(out, len(spent.tools)):
        out.print(cost_view(spent))
    else:
        lines.write(cost_lines(spent))
    for problem in problems:
        out.print(f"[dim]skipped: {escape(problem)}[/]")


def money(usd: float | None) -> str:
    return "price unknown" if usd is None else f"${usd:,.4f}"


COLUMNS = ("runs", "tokens in (cached)", "out", "spent", "list price", "caching saved")


def cells(s: Spend, count: Callable[[int], str] = "{:,}".format) -> list[str]:
    """A line's figures, after its label: runs, tokens (each as `count` writes it), dollars."""
    sent = s.input_tokens + s.cache_creation_input_tokens + s.cache_read_input_tokens
    unpriced = f" +{s.unpriced} unpriced" if s.unpriced and s.cost_usd is not None else ""
    return [
        str(s.runs),
        f"{count(sent)} ({count(s.cache_read_input_tokens)})",
        count(s.output_tokens),
        money(s.cost_usd) + unpriced,
        money(s.list_usd),
        money(s.caching_saved_usd),
        money(s.batches_saved_usd),
    ]


def sections(spent: Report) -> list[list[tuple[str, Spend]]]:
    """Per tool, per model, then the total."""
    return [
        sorted(spent.tools.items()),
        sorted(spent.models.items()),
        [("total", spent.total)],
    ]


def title(spent: Report) -> str:
    return f"Spend since {spent.since}" if spent.since else "Spend"


def cost_view(spent: Report) -> Table:
    """One line per tool, then per model, then the total; tokens by kind are in --json."""
    table = Table(title=title(spent), title_justify="left", box=None, pad_edge=False)
    table.add_column("", no_wrap=True)
    for column in (*COLUMNS, "batches saved"):
        table.add_column(column, justify="right", no_wrap=True)
    for n, (section, style) in enumerate(zip(sections(spent), ("", "dim", "bold"), strict=True)):
        if n:
            table.add_section()
        for label, s in section:
            table.add_row(escape(label), *cells(s), style=style)
    return table


PLAIN_COLUMNS = ("runs", "in (cached)", "out", "spent", "list", "caching", "batches")


def cost_lines(spent: Report) -> list[str]:
    """The same figures as plain aligned lines, a blank line between the sections; token counts
    shortened (`19.6k`) so a line keeps to 80 columns. Labels are keys: never cut."""
    columns = [lines.Column("")] + [lines.Column(c, right=True) for c in PLAIN_COLUMNS]
    rows: list[list[str]] = []
    for n, section in enumerate(sections(spent)):
        if n:
            rows.append([""] * len(columns))
        rows += [[clean(label), *cells(s, lines.count)] for label, s in section]
    note = "caching saved and batches saved: against list price"
    return [f"{title(spent)} ({note})", *lines.render(columns, rows)]
