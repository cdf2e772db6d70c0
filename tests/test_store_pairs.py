"""Pairwise records in the store, on SQLite and PostgreSQL alike: kept, found in either order."""

from __future__ import annotations

from panel.judge.pairwise import ask_of, decide_pair, vote_of
from panel.model.pairwise import PairTool, Pairwise, PairwisePick
from panel.store.pairs import latest_pairwise, save_pairwise


def record(pair_id: str, created_at: str, position: str = "first") -> Pairwise:
    answer = PairwisePick(pick=position, reason="r", pick_first_if="x", pick_second_if="y")
    other = "second" if position == "first" else "first"
    swapped = answer.model_copy(update={"pick": other})
    votes = [vote_of("builder", 1, [ask_of("ab", answer), ask_of("ba", swapped)])]
    return Pairwise(
        pair_id=pair_id,
        created_at=created_at,
        model="claude-sonnet-5-5",
        a=PairTool(slug="zed", name="Zed", run_id="r1"),
        b=PairTool(slug="kestrel", name="Kestrel", run_id="r2"),
        votes=votes,
        decision=decide_pair(votes, "Zed", "Kestrel"),
    )


def test_latest_comparison_either_order(make_store):
    """The newest comparison of two tools is found whichever of them is named first."""
    store = make_store()
    save_pairwise(store, record("p1", "2026-12-01T10:00:00+00:00", "first"))
    save_pairwise(store, record("p2", "2026-12-02T10:00:00+00:00", "second"))
    assert latest_pairwise(store, "kestrel", "zed").pair_id == "p2"
    assert latest_pairwise(store, "zed", "kestrel").decision.winner == "b"


def test_no_comparison_is_none(make_store):
    """Two tools never compared have no stored verdict (and nothing is created to say so)."""
    assert latest_pairwise(make_store(), "zed", "kestrel") is None
