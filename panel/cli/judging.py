"""`panel compare --judge` and `panel site --judge`: the pairwise question, asked and recorded.

The estimate is printed before anything is sent and the cost after; both on stderr, so stdout
stays the page or the JSON. A comparison that could not be recorded is printed first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from panel.cli.app import err
from panel.cli.render import DECISION_STYLE, clean
from panel.cli.review import check_max_cost, money
from panel.config import Settings
from panel.errors import InputError
from panel.judge.personas import Persona
from panel.judge.prompts import Prompts
from panel.model.pairwise import Pairwise
from panel.model.run import Run, RunUsage
from panel.pages.pairwise import PairwiseView
from panel.store.pairs import PairwiseNotSaved
from panel.store.sqlite import Store

JudgeOpt = Annotated[
    bool,
    typer.Option(
        "--judge",
        help="Ask each persona which of the two to ship (both orders; a pick that flips with "
        "the order is a tie) from the stored documents, and record the verdict. Calls the API.",
    ),
]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="With --judge: print the estimate and send nothing."),
]
MaxCostOpt = Annotated[
    float | None,
    typer.Option(
        "--max-cost",
        metavar="USD",
        help="With --judge: refuse before any call when the estimate is more than this.",
        show_default=False,
    ),
]


def estimate_line(pairs: Sequence[tuple[Run, Run]], usage: RunUsage, calls: int) -> str:
    u = usage
    return (
        f"[bold]Estimate[/]: {money(u.cost_usd)} for {len(pairs)} comparison"
        f"{'s' if len(pairs) != 1 else ''}, {calls} calls (input estimated from sizes; output a "
        f"third of max_tokens): {u.input_tokens:,} in · {u.cache_creation_input_tokens:,} cache "
        f"write · {u.cache_read_input_tokens:,} cache read · {u.output_tokens:,} out"
    )


def judge_pairs(
    pairs: Sequence[tuple[Run, Run]],
    *,
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    store: Store,
    max_cost: float | None,
    dry_run: bool,
) -> list[Pairwise]:
    """Estimate, check the budget, then compare each pair and record it; [] for a dry run."""
    from panel.judge.matchup import plan_pair

    check_max_cost(max_cost)
    plans = [plan_pair(a, b, personas, prompts, settings) for a, b in pairs]
    total = sum((p.cost_usd or 0.0 for p in plans), 0.0)
    unknown = any(p.cost_usd is None for p in plans)
    merged = RunUsage(
        input_tokens=sum(p.input_tokens for p in plans),
        output_tokens=sum(p.output_tokens for p in plans),
        cache_creation_input_tokens=sum(p.cache_creation_input_tokens for p in plans),
        cache_read_input_tokens=sum(p.cache_read_input_tokens for p in plans),
        cost_usd=None if unknown else round(total, 6),
    )
    calls = 2 * len(personas) * len(pairs)
    err.print(estimate_line(pairs, merged, calls), soft_wrap=True, highlight=False)
    if dry_run:
        err.print("Dry run: nothing is sent.", highlight=False)
        return []
    if max_cost is not None and merged.cost_usd is None:
        raise InputError(
            f"--max-cost: price unknown for {settings.model} (not in prices.toml), so the "
            "budget cannot be checked; nothing was sent"
        )
    if max_cost is not None and total > max_cost:
        raise InputError(
            f"estimated ${total:.4f} is more than --max-cost ${max_cost:.4f}; nothing was sent"
        )
    return asyncio.run(_judge_all(pairs, settings, personas, prompts, store))


async def _judge_all(
    pairs: Sequence[tuple[Run, Run]],
    settings: Settings,
    personas: Sequence[Persona],
    prompts: Prompts,
    store: Store,
) -> list[Pairwise]:
    from panel.api.client import Client, endpoint
    from panel.judge.matchup import compare_pair

    client = Client()  # fails fast without a key, before anything is sent
    records = []
    try:
        for a, b in pairs:
            try:
                record = await compare_pair(
                    a,
                    b,
                    settings=settings,
                    personas=personas,
                    prompts=prompts,
                    client=client,
                    store=store,
                    endpoint=endpoint(),
                )
            except PairwiseNotSaved as exc:  # paid for: the verdict is printed before the error
                print(exc.record.model_dump_json(indent=2))
                raise
            err.print(
                f"panel: {escape(clean(a.tool.name))} vs {escape(clean(b.tool.name))}: "
                f"{escape(clean(record.decision.label))}; cost {money(record.cost_usd)} "
                f"(recorded {record.pair_id})",
                highlight=False,
                soft_wrap=True,
            )
            records.append(record)
    finally:
        await client.close()
    return records


def pairwise_table(view: PairwiseView) -> RenderableType:
    """The pairwise verdict in the terminal: the panel's label, then each persona's pick."""
    style = DECISION_STYLE["ship" if view.tone == "ship" else "incomplete"]
    table = Table(
        title=Text.assemble("Which should you ship? ", (clean(view.label), style)),
        title_justify="left",
        caption=clean(f"{view.how} {view.stale} {view.provenance}".replace("  ", " ")),
        caption_justify="left",
        show_lines=True,
        expand=True,
    )
    table.add_column("Reviewer", style="bold", no_wrap=True)
    table.add_column("Pick", ratio=1)
    for row in view.rows:
        lines = "\n".join(f"{lead} {text}" for lead, text in row.lines)
        cell = Text.assemble(
            (clean(row.pick), "bold"),
            f"  {clean(row.stability)}" if row.stability else "",
            f"\n{clean(row.reason)}" if row.reason else "",
            f"\n{clean(lines)}" if lines else "",
        )
        table.add_row(Text(clean(row.persona)), cell)
    return table
