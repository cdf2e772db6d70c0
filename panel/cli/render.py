"""Turning stored runs into what people read: the scorecard, a diff, a history, the tool list.

Text from records (names, sources, rationales, cards, errors) comes from pages and from the model:
it goes through `clean` (no terminal control characters) and is escaped or put in `Text`, never
read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel as Box
from rich.table import Table
from rich.text import Text

from panel.cli import lines
from panel.judge.conflict import conflict
from panel.judge.evidence import summary, tally
from panel.judge.personas import Persona
from panel.model.run import Run
from panel.model.verdict import VerdictRecord
from panel.sources.text import strip_control_chars
from panel.store.diff import RunDiff
from panel.store.history import History, HistoryEntry, sparkline
from panel.store.sqlite import ToolRow

DECISION_STYLE = {"ship": "bold green", "skip": "bold red", "incomplete": "bold yellow"}
INJECTION_MARK = "⚠ injection"


def clean(text: object) -> str:
    """Untrusted text as it may reach the terminal: without control characters but \n and \t."""
    return strip_control_chars(str(text))


def suspected(run: Run) -> bool:
    """Whether any persona reported a document that tried to instruct the panel."""
    return any(v.injection_suspected for v in run.verdicts)


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
        table.add_row(key, Text(clean(value)))
    return Group(table, Text(""), Text(clean(card.description)))


def scorecard(run: Run, names: dict[str, str]) -> RenderableType:
    """The tool, its card, the panel label, then each persona's score and paragraph."""
    decision = run.panel.decision
    head = Text.assemble(
        (clean(run.tool.name), "bold"),
        "  ",
        (clean(run.panel.label), DECISION_STYLE[decision]),
    )
    if run.panel.mean_score is not None:
        head.append(f"  ·  mean {run.panel.mean_score:g}/100")
    if run.panel.dissenters:
        dissent = ", ".join(names.get(p, p) for p in run.panel.dissenters)
        head.append(clean(f"  ·  dissent: {dissent}"))
    if suspected(run):
        head.append(f"  ·  {INJECTION_MARK}", style="yellow")
    parts: list[RenderableType] = [head]
    found = conflict(run)
    if found:
        parts.append(Text(clean(f"⚠ {found.note}"), style="bold yellow"))
    card = card_lines(run)
    if card is not None:
        parts += [Text(""), card]
    width = max((len(names.get(v.persona, v.persona)) for v in run.verdicts), default=8) + 2
    for v in run.verdicts:
        name = clean(names.get(v.persona, v.persona)).ljust(width)
        parts.append(Text(""))
        if v.status == "ok":
            line = Text.assemble(
                (name, "bold"),
                f"{v.score}/100{plus_minus(v.spread)} · ",
                (v.decision or "", DECISION_STYLE[v.decision or "skip"]),
            )
            if v.samples is not None:
                line.append(f"  {samples_text(v.samples, v.samples_failed)}", style="dim")
            parts.append(line)
            parts.append(Text(clean(v.rationale or "")))
            parts += evidence_lines(run, v)
            if v.injection_suspected:
                parts.append(
                    Text(
                        clean(f"⚠ a document tried to instruct the panel: {v.injection_evidence}"),
                        style="yellow",
                    )
                )
        else:
            error = clean(f" · {v.error}")
            parts.append(Text.assemble((name, "bold"), ("failed", "bold yellow"), error))
    u = run.usage
    sent = u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens
    footer = f"run {run.run_id} · {run.model} · {sent:,} in ({u.cache_read_input_tokens:,} cached)"
    footer += f" / {u.output_tokens:,} out tokens"
    footer += f" · ${run.cost_usd:.4f}" if run.cost_usd is not None else " · price unknown"
    parts += [Text(""), Text(clean(footer), style="dim")]
    return Box(Group(*parts), title="panel review", title_align="left", expand=False, width=100)


QUOTE_MARK = {"verified": ("✓", "green"), "not found": ("✗ not found:", "red")}


def evidence_lines(run: Run, v: VerdictRecord) -> list[RenderableType]:
    """A verdict's quotes under its paragraph: how many were found, then each with its mark and
    document; nothing for a record written before verdicts carried evidence."""
    if v.evidence is None:
        return []
    t = tally(v.evidence)
    lines: list[RenderableType] = [
        Text(summary(t), style="dim" if t.verified == t.given else "yellow")
    ]
    for e in v.evidence:
        mark, style = QUOTE_MARK.get(e.status, ("? unchecked:", "yellow"))
        where = e.document
        if e.document_index is not None and e.document_index < len(run.documents):
            doc = run.documents[e.document_index]
            where = doc.title or doc.name
        lines.append(Text.assemble((mark, style), " ", clean(f"“{e.quote}” — {where}")))
    return lines


def plus_minus(spread: float | None) -> str:
    """An ensemble verdict's spread as the scorecard shows it (" ± 4"); nothing for one sample."""
    return "" if spread is None else f" ± {round(spread)}"


def samples_text(scores: Sequence[int], failed: int | None) -> str:
    """`median of 70, 74, 80`, and how many samples failed, if any."""
    text = f"median of {', '.join(map(str, scores))}"
    return text + (f" ({failed} failed)" if failed else "")


def print_run(console: Console, run: Run, names: dict[str, str]) -> None:
    console.print(scorecard(run, names))


def when(created_at: str) -> str:
    """`2026-11-25T13:05:01+00:00` as `2026-11-25 13:05` (UTC, as recorded)."""
    return created_at[:16].replace("T", " ")


def signed(delta: int | None) -> str:
    return "" if delta is None else f"{delta:+d}".replace("-", "−")


def score_text(score: int | None) -> str:
    return "failed" if score is None else str(score)


def diff_view(diff: RunDiff, names: dict[str, str]) -> RenderableType:
    """What moved between two runs: label, documents, card fields, then each persona."""
    parts: list[RenderableType] = [
        Text(clean(f"{diff.slug}: run {diff.old_run_id} → {diff.new_run_id}"), style="dim"),
        Text.assemble(
            ("Panel  ", "bold"),
            clean(diff.old_label),
            "  →  ",
            clean(diff.new_label),
            _mean_move(diff),
        ),
    ]
    docs = Table.grid(padding=(0, 2))
    for status in ("added", "removed", "changed"):
        for d in diff.documents_with(status):  # type: ignore[arg-type]
            docs.add_row(
                Text(status, style=DOC_STYLE[status]),
                Text(clean(d.label)),
            )
    unchanged = len(diff.documents_with("unchanged"))
    parts += [Text(""), Text(f"Documents  ({unchanged} unchanged)", style="bold")]
    if docs.row_count:
        parts.append(docs)
    if diff.card:
        card = Table.grid(padding=(0, 2))
        for c in diff.card:
            label = CARD_LABEL.get(c.field, c.field)
            moved = clean(f"{c.old or '—'}  →  {c.new or '—'}")
            card.add_row(Text(clean(label), style="dim"), Text(moved))
        parts += [Text(""), Text("Tool card", style="bold"), card]
    parts += [Text(""), Text("Personas", style="bold")]
    width = max((len(names.get(p.persona, p.persona)) for p in diff.personas), default=8) + 2
    for p in diff.personas:
        line = Text.assemble(
            clean(names.get(p.persona, p.persona)).ljust(width),
            f"{score_text(p.old_score)} → {score_text(p.new_score)}",
        )
        if p.delta:
            line.append(f"  ({signed(p.delta)})", style="green" if p.delta > 0 else "red")
        if p.flipped:
            style = DECISION_STYLE[p.new_decision or "skip"]
            line.append(clean(f"  {p.old_decision} → {p.new_decision}"), style=style)
        parts.append(line)
        parts += [Text(clean(f"    + {s}"), style="dim") for s in p.new_sentences]
    return Box(Group(*parts), title="what changed", title_align="left", expand=False, width=100)


DOC_STYLE = {"added": "green", "removed": "red", "changed": "yellow"}
CARD_LABEL = {
    "pricing_summary": "Pricing",
    "pricing_model": "Pricing model",
    "name": "Name",
    "category": "Category",
    "tagline": "Tagline",
    "best_for": "Best for",
    "description": "Description",
}


def _mean_move(diff: RunDiff) -> str:
    if diff.old_mean is None or diff.new_mean is None or diff.old_mean == diff.new_mean:
        return ""
    return f"  ·  mean {diff.old_mean:g} → {diff.new_mean:g}"


def history_view(
    h: History, names: dict[str, str], flagged: frozenset[str] = frozenset()
) -> RenderableType:
    """Three lines per run, oldest first (when, scores, documents), then a sparkline per persona.

    A run in `flagged` (run ids whose panel suspected prompt injection) is marked.
    """
    head = Text(clean(f"{h.name} ({h.slug}): {len(h.runs)} runs"), style="bold")
    parts: list[RenderableType] = [head]
    for e in h.runs:
        verdicts = Text("    ")
        for i, p in enumerate(h.trend):
            decision = e.decisions.get(p)
            verdicts.append(" · " if i else "")
            verdicts.append(clean(f"{names.get(p, p)} {score_text(e.scores.get(p))}"))
            if decision:
                verdicts.append(clean(f" {decision}"), style=DECISION_STYLE.get(decision, ""))
        # The label comes right after the date and the model goes below: at 80 columns a line
        # of all four would break the label in two.
        line = Text.assemble((when(clean(e.created_at)), "bold"), clean(f"  {e.label}  {e.run_id}"))
        if e.run_id in flagged:
            line.append(f"  {INJECTION_MARK}", style="yellow")
        parts += [
            Text(""),
            line,
            verdicts,
            Text(clean(f"    {e.model} · documents: {_doc_moves(e)}"), style="dim"),
        ]
    trend = Table.grid(padding=(0, 2))
    for p, scores in h.trend.items():
        scores_text = " ".join(score_text(s) for s in scores)
        trend.add_row(Text(clean(names.get(p, p))), sparkline(scores), scores_text)
    return Group(*parts, Text(""), Text("Score trend", style="bold"), trend)


SOURCE_LABEL = {"--description": "description", "-": "stdin"}


def _doc_moves(e: HistoryEntry) -> str:
    """`+added -removed ~changed`, or `unchanged`."""
    moves = [
        f"{mark}{SOURCE_LABEL.get(s, s)}"
        for mark, group in (
            ("+", e.documents_added),
            ("-", e.documents_removed),
            ("~", e.documents_changed),
        )
        for s in group
    ]
    return " ".join(moves) or "unchanged"


def tools_view(rows: Sequence[ToolRow]) -> RenderableType:
    """`panel list`: each tool's latest run, its label marked when injection was suspected."""
    table = Table(title="tools reviewed", title_justify="left")
    for col in ("tool", "slug", "panel", "mean", "runs", "last run"):
        table.add_column(col)
    for r in rows:
        mean = "—" if r.mean_score is None else f"{r.mean_score:g}"
        label = Text(clean(r.label))
        if r.injection_suspected:
            label.append(f"  {INJECTION_MARK}", style="yellow")
        table.add_row(
            Text(clean(r.name)),
            Text(clean(r.slug)),
            label,
            mean,
            str(r.runs),
            Text(clean(when(r.created_at))),
        )
    return table


TOOL_COLUMNS = (
    lines.Column("tool", shrink=True),
    lines.Column("slug"),  # the key a command takes: never cut
    lines.Column("panel"),
    lines.Column("mean", right=True),
    lines.Column("runs", right=True),
    lines.Column("last run"),
)


def tools_lines(rows: Sequence[ToolRow], width: int) -> list[str]:
    """`panel list` as plain aligned lines, the table's columns and marks without its drawing."""
    cells = [
        [
            clean(r.name),
            clean(r.slug),
            clean(r.label) + (f"  {INJECTION_MARK}" if r.injection_suspected else ""),
            "—" if r.mean_score is None else f"{r.mean_score:g}",
            str(r.runs),
            clean(when(r.created_at)),
        ]
        for r in rows
    ]
    return lines.render(TOOL_COLUMNS, cells, width)


def leaderboard(board: Sequence[dict[str, object]], title: str = "leaderboard") -> Table:
    """A batch's tools, best mean score first, each with the panel's label."""
    table = Table(title=Text(clean(title)), title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("tool", style="bold")
    table.add_column("mean", justify="right")
    table.add_column("label")
    for rank, row in enumerate(board, start=1):
        mean = row.get("mean_score")
        decision = str(row.get("decision") or "incomplete")
        label = Text(clean(row["label"]), style=DECISION_STYLE.get(decision, ""))
        if row.get("injection_suspected"):
            label.append(f"  {INJECTION_MARK}", style="yellow")
        table.add_row(
            str(rank),
            Text(clean(row["name"])),
            "-" if mean is None else f"{mean:g}",
            label,
        )
    return table


JOB_COLUMNS = ("job", "via", "status", "done", "failed", "pending", "in batches", "spent")


def job_cells(r: dict[str, Any]) -> list[str]:
    return [
        clean(r["job_id"]),
        r["via"],
        r["status"],
        str(r["done"]),
        str(r["failed"]),
        str(r["pending"]),
        str(r["open_batches"]),
        f"${r['cost_usd']:.4f}",
    ]


def jobs_table(rows: list[dict[str, Any]], width: int) -> RenderableType:
    """Every job, with its id in full (`panel export` needs it; never cut): a table when one fits
    `width` columns, else two lines a job, the id alone on the first."""
    cells = [job_cells(r) for r in rows]
    widths = [max(len(c) for c in column) for column in zip(JOB_COLUMNS, *cells, strict=True)]
    if sum(widths) + 2 * (len(widths) - 1) <= width:
        table = Table(title="batch jobs", title_justify="left", box=None, pad_edge=False)
        for column in JOB_COLUMNS:
            right = column not in ("job", "via", "status")
            table.add_column(column, justify="right" if right else "left", no_wrap=True)
        for row in cells:
            table.add_row(*row)
        return table
    lines: list[RenderableType] = [Text("batch jobs", style="italic")]
    for job, via, status, done, failed, pending, open_batches, spent in cells:
        lines.append(Text(job, style="bold", overflow="fold"))
        lines.append(
            Text(
                f"  {status} ({via})  {done} done  {failed} failed  {pending} pending  "
                f"{open_batches} in batches  {spent}"
            )
        )
    return Group(*lines)
