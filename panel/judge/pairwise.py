"""The pairwise reducer, pure: positions back to tools, the swap rule, the panel's verdict.

Each persona is asked twice, once with A's documents first and once with B's first. A model
with a position bias picks "first" both times, which names two different tools: that is no
preference, so a pick that changes with the order counts as a tie.
"""

from __future__ import annotations

from collections.abc import Sequence

from panel.model.pairwise import (
    Order,
    PairwiseAsk,
    PairwiseDecision,
    PairwisePick,
    PairwiseVote,
    Position,
    Side,
    Winner,
)

ORDERS: tuple[Order, Order] = ("ab", "ba")


def side_of(pick: Position, order: Order) -> Side:
    """The tool a positional answer names: in order "ab" the first tool is A, in "ba" it is B."""
    if pick == "tie":
        return "tie"
    first_is_a = order == "ab"
    return "a" if (pick == "first") == first_is_a else "b"


def swap_rule(ab: Side, ba: Side) -> tuple[Side, bool]:
    """(pick, order_stable): the same answer in both orders stands; anything else is a tie."""
    if ab == ba:
        return ab, True
    return "tie", False


def ask_of(order: Order, answer: PairwisePick, **kept: object) -> PairwiseAsk:
    """One ordering's answer with its positions mapped back to A and B."""
    a_if, b_if = answer.pick_first_if, answer.pick_second_if
    if order == "ba":
        a_if, b_if = b_if, a_if
    return PairwiseAsk(
        order=order,
        pick=side_of(answer.pick, order),
        reason=answer.reason,
        pick_a_if=a_if,
        pick_b_if=b_if,
        **kept,  # type: ignore[arg-type]
    )


def vote_of(persona: str, version: int, asks: Sequence[PairwiseAsk]) -> PairwiseVote:
    """A persona's verdict from its two asks; a failed ask makes the vote failed (not a tie)."""
    failed = [ask for ask in asks if ask.status != "ok" or ask.pick is None]
    if failed or len(asks) != len(ORDERS):
        reason = failed[0].error if failed else "an ordering was not asked"
        return PairwiseVote(
            persona=persona,
            persona_version=version,
            asks=list(asks),
            status="failed",
            error=reason or "unusable reply",
        )
    by_order = {ask.order: ask for ask in asks}
    ab, ba = by_order["ab"], by_order["ba"]
    assert ab.pick is not None and ba.pick is not None
    pick, stable = swap_rule(ab.pick, ba.pick)
    # The words of the ordering whose pick stands (either, when stable); A-first otherwise.
    said = ab if pick == ab.pick else ba if pick == ba.pick else ab
    return PairwiseVote(
        persona=persona,
        persona_version=version,
        asks=list(asks),
        pick=pick,
        order_stable=stable,
        reason=said.reason,
        pick_a_if=said.pick_a_if,
        pick_b_if=said.pick_b_if,
    )


def decide_pair(votes: Sequence[PairwiseVote], name_a: str, name_b: str) -> PairwiseDecision:
    """The panel's pick: the tool more personas chose in both orders; equal counts are a tie."""
    ok = [v for v in votes if v.status == "ok"]
    a = sum(v.pick == "a" for v in ok)
    b = sum(v.pick == "b" for v in ok)
    ties = sum(v.pick == "tie" for v in ok)
    flipped = sum(v.pick == "tie" and not v.order_stable for v in ok)
    counts = {"a": a, "b": b, "ties": ties, "flipped": flipped, "answered": len(ok)}
    failed = len(votes) - len(ok)
    winner: Winner = "incomplete" if not ok else "a" if a > b else "b" if b > a else "tie"
    label = pair_label(winner, name_a, name_b, a=a, b=b, ties=ties, flipped=flipped, failed=failed)
    return PairwiseDecision(winner=winner, failed=failed, label=label, **counts)


def pair_label(
    winner: str, name_a: str, name_b: str, *, a: int, b: int, ties: int, flipped: int, failed: int
) -> str:
    """One line: "Zed · 3 of 4 reviewers, order-stable", "Tie · Zed 1, Kestrel 1, tie 2"."""
    answered = a + b + ties
    if winner == "incomplete":
        return f"Incomplete · no reviewer answered in both orders ({failed} failed)"
    unit = "reviewer" if answered == 1 else "reviewers"
    if winner in ("a", "b"):
        name, count = (name_a, a) if winner == "a" else (name_b, b)
        text = f"{name} · {count} of {answered} {unit}, order-stable"
    else:
        text = f"Tie · {name_a} {a}, {name_b} {b}, tie {ties}"
    notes = []
    if flipped:
        notes.append(f"{flipped} flipped with the order")
    if failed:
        notes.append(f"{failed} failed")
    return f"{text} ({'; '.join(notes)})" if notes else text
