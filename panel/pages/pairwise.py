"""The pairwise section of a comparison page, as plain view data from a stored Pairwise record.

A record keeps its own A and B; a page may show the two tools the other way round, so every
line here names tools by name, in the page's order. Model-written text is escaped by templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from panel.model import Run
from panel.model.pairwise import Pairwise, PairwiseAsk, PairwiseVote

HOW = (
    "Each reviewer read both tools' documents and picked one, asked twice with the order "
    "swapped; a pick that changed with the order counts as a tie."
)


@dataclass(frozen=True)
class PairwiseRow:
    """One persona's pick: the tool (or Tie, or failed), how it held up, why, and when each fits."""

    persona: str
    tone: str  # ship (a tool picked in both orders) | incomplete (a tie) | failed
    pick: str
    stability: str
    reason: str
    lines: list[tuple[str, str]]  # ("Pick Zed if", "you ...") in the page's order


@dataclass(frozen=True)
class PairwiseView:
    label: str
    tone: str
    how: str
    provenance: str  # model, date, cost
    stale: str  # non-empty when the comparison read older runs than the page shows
    rows: list[PairwiseRow]


def _name(side: str | None, names: Mapping[str, str]) -> str:
    return names.get(side or "", "Tie") if side != "tie" else "Tie"


def _stability(vote: PairwiseVote, names: Mapping[str, str]) -> str:
    by_order: dict[str, PairwiseAsk] = {ask.order: ask for ask in vote.asks}
    if vote.order_stable and vote.pick == "tie":
        return "a tie in both orders"
    if vote.order_stable:
        return "order-stable: the same pick in both orders"
    ab, ba = by_order["ab"], by_order["ba"]
    return (
        f"flipped with the order: {_name(ab.pick, names)} when {names['a']} came first, "
        f"{_name(ba.pick, names)} when {names['b']} came first"
    )


def pairwise_view(
    record: Pairwise, a: Run, b: Run, persona_names: Mapping[str, str]
) -> PairwiseView:
    """The section for the page of `a` vs `b`, whichever way round the record has them."""
    names = {"a": record.a.name, "b": record.b.name}
    swapped = record.a.slug != a.tool.slug
    rows = []
    for vote in record.votes:
        persona = persona_names.get(vote.persona, vote.persona)
        if vote.status != "ok":
            rows.append(
                PairwiseRow(persona, "failed", f"failed: {vote.error or 'no answer'}", "", "", [])
            )
            continue
        lines = [
            (f"Pick {names['a']} if", vote.pick_a_if),
            (f"Pick {names['b']} if", vote.pick_b_if),
        ]
        rows.append(
            PairwiseRow(
                persona,
                "incomplete" if vote.pick == "tie" else "ship",
                _name(vote.pick, names),
                _stability(vote, names),
                vote.reason,
                lines[::-1] if swapped else lines,
            )
        )
    page_runs = {a.tool.slug: a.run_id, b.tool.slug: b.run_id}
    old = [t.name for t in (record.a, record.b) if page_runs.get(t.slug) != t.run_id]
    stale = (
        f"Compared on earlier reviews of {' and '.join(old)} than the ones above." if old else ""
    )
    cost = "price unknown" if record.cost_usd is None else f"${record.cost_usd:.4f}"
    winner = record.decision.winner
    return PairwiseView(
        label=record.decision.label,
        tone="ship" if winner in ("a", "b") else "incomplete",
        how=HOW,
        provenance=f"{record.model} · {record.created_at[:10]} · cost {cost}",
        stale=stale,
        rows=rows,
    )
