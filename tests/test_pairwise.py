"""The pairwise reducer: positions mapped back to tools, the swap rule, the panel's verdict."""

from __future__ import annotations

import pytest

from panel.judge.pairwise import ask_of, decide_pair, side_of, swap_rule, vote_of
from panel.model.pairwise import PairwiseAsk, PairwisePick, PairwiseVote


def pick(position: str) -> PairwisePick:
    return PairwisePick(
        pick=position, reason="Because.", pick_first_if="first fits", pick_second_if="second fits"
    )


def vote(ab: str, ba: str, persona: str = "builder") -> PairwiseVote:
    """A persona's vote from its positional answers in the two orders."""
    return vote_of(persona, 1, [ask_of("ab", pick(ab)), ask_of("ba", pick(ba))])


@pytest.mark.parametrize(
    ("position", "order", "side"),
    [
        ("first", "ab", "a"),
        ("second", "ab", "b"),
        ("first", "ba", "b"),
        ("second", "ba", "a"),
        ("tie", "ba", "tie"),
    ],
)
def test_side_of_maps_positions_to_tools(position, order, side):
    """ "first" names A when A's documents came first, and B when B's did."""
    assert side_of(position, order) == side


def test_swap_rule_turns_order_dependent_pick_into_tie():
    """A model that says "first" in both orders named two tools: that is a tie, not stable."""
    v = vote("first", "first")
    assert (v.pick, v.order_stable) == ("tie", False)


def test_swap_rule_keeps_a_stable_pick():
    """The same tool in both orders ("first" with A first, "second" with B first) stands."""
    v = vote("first", "second")
    assert (v.pick, v.order_stable) == ("a", True)


def test_swap_rule_tie_against_pick_is_tie():
    """A tie in one order and a pick in the other is no preference."""
    assert swap_rule("tie", "b") == ("tie", False)


def test_pick_if_lines_follow_the_tools():
    """In the B-first order the model's "first" line is about B: it becomes B's line."""
    answer = PairwisePick(
        pick="first", reason="r", pick_first_if="about B", pick_second_if="about A"
    )
    ask = ask_of("ba", answer)
    assert (ask.pick_a_if, ask.pick_b_if) == ("about A", "about B")


def test_failed_order_fails_the_vote():
    """A vote with a failed ordering is failed, never counted as a tie."""
    failed = PairwiseAsk(order="ba", status="failed", error="refused")
    v = vote_of("skeptic", 1, [ask_of("ab", pick("first")), failed])
    assert (v.status, v.pick, v.error) == ("failed", None, "refused")


def test_panel_aggregate_and_label():
    """Three stable picks of B and one flipped pick: B wins, 3 of 4, order-stable, 1 flipped."""
    votes = [vote("second", "first"), vote("second", "first"), vote("second", "first")]
    votes.append(vote("first", "first", persona="futurist"))
    d = decide_pair(votes, "Kestrel", "Zed")
    assert (d.winner, d.a, d.b, d.ties, d.flipped) == ("b", 0, 3, 1, 1)
    assert d.label == "Zed · 3 of 4 reviewers, order-stable (1 flipped with the order)"


def test_label_of_a_clean_win():
    """Every persona picking A in both orders reads "A · 4 of 4 reviewers, order-stable"."""
    d = decide_pair([vote("first", "second") for _ in range(4)], "Zed", "Kestrel")
    assert d.label == "Zed · 4 of 4 reviewers, order-stable"


def test_equal_counts_are_a_tie():
    """One persona for each tool and two flipped: the panel's verdict is a tie."""
    votes = [vote("first", "second"), vote("second", "first"), vote("first", "first")]
    votes.append(vote("second", "second"))
    d = decide_pair(votes, "Zed", "Kestrel")
    assert d.winner == "tie"
    assert d.label == "Tie · Zed 1, Kestrel 1, tie 2 (2 flipped with the order)"


def test_failed_votes_are_left_out_and_said():
    """Failed votes are not counted among the reviewers, and the label says how many failed."""
    failed = vote_of("founder", 1, [PairwiseAsk(order="ab", status="failed", error="x")])
    d = decide_pair([vote("first", "second"), failed], "Zed", "Kestrel")
    assert (d.answered, d.failed) == (1, 1)
    assert d.label == "Zed · 1 of 1 reviewer, order-stable (1 failed)"


def test_no_answers_is_incomplete():
    """With every vote failed there is no verdict: incomplete, not a tie."""
    failed = vote_of("founder", 1, [PairwiseAsk(order="ab", status="failed", error="x")])
    assert decide_pair([failed], "Zed", "Kestrel").winner == "incomplete"
