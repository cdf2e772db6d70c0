"""`panel cost`: spend from the stored runs, per tool, per model and in total. No key, no API call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

import typer
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

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


def sections(spent: Report) -> list[list[tuple[str, Spend]]]:
    """Per tool, per model, then the total."""
    return [
        sorted(spent.tools.items()),
        sorted(spent.models.items()),
        [("total", spent.total)],
    ]


def title(spent: Report, what: str = "Spend") -> str:
    return f"{what} since {spent.since}" if spent.since else what


def dollars(s: Spend) -> list[str]:
    """A line's runs and dollars, after its label."""
    unpriced = f" +{s.unpriced} unpriced" if s.unpriced and s.cost_usd is not None else ""
    return [
        str(s.runs),
        money(s.cost_usd) + unpriced,
        money(s.list_usd),
        money(s.caching_saved_usd),
        money(s.batches_saved_usd),
    ]


def tokens(s: Spend, count: Callable[[int], str] = "{:,}".format) -> list[str]:
    """A line's tokens by kind, after its label (each as `count` writes it)."""
    return [
        count(s.input_tokens),
        count(s.cache_read_input_tokens),
        count(s.cache_creation_input_tokens),
        count(s.output_tokens),
    ]


DOLLAR_COLUMNS = ("runs", "spent", "list price", "cached", "batches")
TOKEN_COLUMNS = ("input", "cache reads", "cache writes", "output")


def cost_lines(spent: Report) -> list[str]:
    """Plain aligned lines (off a terminal, or a long listing): dollars per tool, per model and
    in total, then tokens per model and in total, so a line keeps to 80 columns. Labels are keys:
    never cut."""
    money_cols = [lines.Column("")] + [lines.Column(c, right=True) for c in DOLLAR_COLUMNS]
    money_rows: list[list[str]] = []
    for n, section in enumerate(sections(spent)):
        if n:
            money_rows.append([""] * len(money_cols))
        money_rows += [[clean(label), *dollars(s)] for label, s in section]
    token_cols = [lines.Column("")] + [lines.Column(c, right=True) for c in TOKEN_COLUMNS]
    token_rows = [[clean(label), *tokens(s, lines.count)] for label, s in sections(spent)[1]]
    token_rows.append(["total", *tokens(spent.total, lines.count)])
    return [
        f"{title(spent)} (cached, batches: what caching and batches saved)",
        *lines.render(money_cols, money_rows),
        "",
        title(spent, "Tokens"),
        *lines.render(token_cols, token_rows),
    ]


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
