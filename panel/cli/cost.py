"""`panel cost`: spend from the stored runs, per tool, per model and in total. No key, no API call."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from panel.cli.app import DbOpt, HomeOpt, JsonOpt, app, out
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
    saved against list price (every input token at the input price, no batch discount)."""
    if since is not None:
        try:
            since = date.fromisoformat(since).isoformat()
        except ValueError:
            raise InputError(f"--since {since!r}: not a date (YYYY-MM-DD)") from None
    store = existing_store(resolve(home=home).home, url=db)
    if tool:
        run_ids = store.runs_of(tool)
    else:
        run_ids = [i for row in store.tools() for i in store.run_ids(row["slug"])]
    problems: list[str] = []
    spent = report(store.readable_runs(run_ids, problems), since=since)
    if json_out:
        print(spent.model_dump_json(indent=2))
        return
    out.print(cost_view(spent))
    for problem in problems:
        out.print(f"[dim]skipped: {escape(problem)}[/]")


def money(usd: float | None) -> str:
    return "price unknown" if usd is None else f"${usd:,.4f}"


def cost_view(spent: Report) -> Group:
    """Dollars (per tool, per model, total), then tokens (per model, total): two narrow tables
    that fit 80 columns without cutting a name; tokens per tool are in --json."""
    when = f" since {spent.since}" if spent.since else ""
    dollars = Table(title=f"Spend{when}", title_justify="left", box=None, pad_edge=False)
    dollars.add_column("", overflow="fold")
    for column in ("runs", "spent", "list\nprice", "caching\nsaved", "batches\nsaved"):
        dollars.add_column(column, justify="right", no_wrap=True)  # two-line headings: narrow

    def row(label: str, s: Spend, style: str = "") -> None:
        unpriced = f" +{s.unpriced} unpriced" if s.unpriced and s.cost_usd is not None else ""
        dollars.add_row(
            escape(label),
            str(s.runs),
            money(s.cost_usd) + unpriced,
            money(s.list_usd),
            money(s.caching_saved_usd),
            money(s.batches_saved_usd),
            style=style,
        )

    for slug, s in sorted(spent.tools.items()):
        row(slug, s)
    dollars.add_section()
    for model, s in sorted(spent.models.items()):
        row(model, s, "dim")
    dollars.add_section()
    row("total", spent.total, "bold")

    tokens = Table(title=f"Tokens{when}", title_justify="left", box=None, pad_edge=False)
    tokens.add_column("", overflow="fold")
    for column in ("input", "cache\nreads", "cache\nwrites", "output"):
        tokens.add_column(column, justify="right", no_wrap=True)
    for label, s, style in [
        *((model, s, "") for model, s in sorted(spent.models.items())),
        ("total", spent.total, "bold"),
    ]:
        tokens.add_row(
            escape(label),
            f"{s.input_tokens:,}",
            f"{s.cache_read_input_tokens:,}",
            f"{s.cache_creation_input_tokens:,}",
            f"{s.output_tokens:,}",
            style=style,
        )
    return Group(dollars, Text(""), tokens)
