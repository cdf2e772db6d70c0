"""Turning stored runs into what people read: the terminal scorecard and the dry-run plan."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel as Box
from rich.table import Table
from rich.text import Text

from panel.personas import Persona
from panel.record import Run

DECISION_STYLE = {"ship": "bold green", "skip": "bold red", "incomplete": "bold yellow"}


def persona_names(personas: Sequence[Persona]) -> dict[str, str]:
    return {p.id: p.name for p in personas}


def card_lines(run: Run) -> RenderableType | None:
    card = run.tool.card
    if card is None:
        return None
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    for key, value in (
        ("Category", card.category),
        ("Tagline", card.tagline),
        ("Pricing", f"{card.pricing_summary} ({card.pricing_model})"),
        ("Best for", card.best_for),
    ):
        table.add_row(key, escape(value))
    return Group(table, Text(""), Text(card.description))


def scorecard(run: Run, names: dict[str, str]) -> RenderableType:
    """The tool, its card, the panel label, then each persona's score and paragraph."""
    decision = run.panel.decision
    head = Text.assemble(
        (run.tool.name, "bold"), "  ", (run.panel.label, DECISION_STYLE[decision]),
    )
    if run.panel.mean_score is not None:
        head.append(f"  ·  mean {run.panel.mean_score:g}/100")
    if run.panel.dissenters:
        head.append("  ·  dissent: " + ", ".join(names.get(p, p) for p in run.panel.dissenters))
    parts: list[RenderableType] = [head]
    card = card_lines(run)
    if card is not None:
        parts += [Text(""), card]
    width = max((len(names.get(v.persona, v.persona)) for v in run.verdicts), default=8) + 2
    for v in run.verdicts:
        name = names.get(v.persona, v.persona).ljust(width)
        parts.append(Text(""))
        if v.status == "ok":
            line = Text.assemble((name, "bold"), f"{v.score}/100 · ", (v.decision or "", DECISION_STYLE[v.decision or "skip"]))
            parts.append(line)
            parts.append(Text(v.rationale or ""))
            if v.injection_suspected:
                parts.append(Text(f"⚠ a document tried to instruct the panel: {v.injection_evidence}", style="yellow"))
        else:
            parts.append(Text.assemble((name, "bold"), ("failed", "bold yellow"), f" · {v.error}"))
    footer = (
        f"run {run.run_id} · {run.model} · {run.usage.input_tokens + run.usage.cache_read_input_tokens + run.usage.cache_creation_input_tokens} in / "
        f"{run.usage.output_tokens} out tokens"
    )
    if run.cost_usd is not None:
        footer += f" · ${run.cost_usd:.4f}"
    parts += [Text(""), Text(footer, style="dim")]
    return Box(Group(*parts), title="panel review", title_align="left", expand=False, width=100)


def print_run(console: Console, run: Run, names: dict[str, str]) -> None:
    console.print(scorecard(run, names))


def leaderboard(board: Sequence[dict[str, object]], title: str = "leaderboard") -> Table:
    """A batch's tools, best mean score first, each with the panel's label."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("tool", style="bold")
    table.add_column("mean", justify="right")
    table.add_column("label")
    for rank, row in enumerate(board, start=1):
        mean = row.get("mean_score")
        decision = str(row.get("decision") or "incomplete")
        table.add_row(
            str(rank),
            escape(str(row["name"])),
            "-" if mean is None else f"{mean:g}",
            Text(str(row["label"]), style=DECISION_STYLE.get(decision, "")),
        )
    return table
