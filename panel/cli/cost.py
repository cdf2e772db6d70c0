"""`panel cost`: spend from the stored runs, per tool, per model and in total. No key, no API call."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

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


def cost_view(spent: Report) -> Table:
    """One line per tool, then per model, then the total; tokens by kind are in --json."""
    when = f" since {spent.since}" if spent.since else ""
    table = Table(title=f"Spend{when}", title_justify="left", box=None, pad_edge=False)
    table.add_column("", no_wrap=True)
    for column in ("runs", "tokens in (cached)", "out", "spent", "list price", "caching saved"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("batches saved", justify="right", no_wrap=True)

    def row(label: str, s: Spend, style: str = "") -> None:
        sent = s.input_tokens + s.cache_creation_input_tokens + s.cache_read_input_tokens
        unpriced = f" +{s.unpriced} unpriced" if s.unpriced and s.cost_usd is not None else ""
        table.add_row(
            escape(label),
            str(s.runs),
            f"{sent:,} ({s.cache_read_input_tokens:,})",
            f"{s.output_tokens:,}",
            money(s.cost_usd) + unpriced,
            money(s.list_usd),
            money(s.caching_saved_usd),
            money(s.batches_saved_usd),
            style=style,
        )

    for slug, s in sorted(spent.tools.items()):
        row(slug, s)
    table.add_section()
    for model, s in sorted(spent.models.items()):
        row(model, s, "dim")
    table.add_section()
    row("total", spent.total, "bold")
    return table
