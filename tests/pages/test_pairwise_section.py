"""The comparison page's "Which should you ship?" section, rendered from a stored Pairwise record."""

from __future__ import annotations

import pytest

from panel.judge.pairwise import ask_of, decide_pair, vote_of
from panel.model import Votes
from panel.model.pairwise import PairTool, Pairwise, PairwisePick
from panel.pages import build_site, compare_html, compare_markdown
from panel.store.pairs import latest_pairwise, save_pairwise
from panel.store.sqlite import Store

HOSTILE = "<script>alert(1)</script>"


def answer(position: str, first_if: str = "you need speed", second_if: str = "you need phones"):
    return PairwisePick(
        pick=position,
        reason=f"It decides it {HOSTILE}.",
        pick_first_if=first_if,
        pick_second_if=second_if,
    )


@pytest.fixture
def record(acme, beta) -> Pairwise:
    """Three personas pick Acme in both orders; the Futurist picks whichever came first."""
    votes = [
        vote_of(
            p, 1, [ask_of("ab", answer("first")), ask_of("ba", answer("second", "phones", "speed"))]
        )
        for p in ("builder", "skeptic", "founder")
    ]
    votes.append(
        vote_of("futurist", 1, [ask_of("ab", answer("first")), ask_of("ba", answer("first"))])
    )
    return Pairwise(
        pair_id="20261201T000000-abcd",
        model="claude-sonnet-5-5",
        a=PairTool(slug="acme", name="Acme", run_id=acme.run_id),
        b=PairTool(slug="beta", name="Beta", run_id=beta.run_id),
        votes=votes,
        decision=decide_pair(votes, "Acme", "Beta"),
        cost_usd=0.0123,
    )


def test_section_shows_panel_verdict(acme, beta, personas, parse, record):
    """The section leads with the panel's pairwise label and the cost of asking."""
    page = parse(compare_html(acme, beta, personas, Votes(), Votes(), record))
    assert "Which should you ship?" in page.text
    assert "Acme · 3 of 4 reviewers, order-stable (1 flipped with the order)" in page.text
    assert "cost $0.0123" in page.text


def test_section_shows_each_persona_pick(acme, beta, personas, parse, record):
    """Each persona's pick reads with its stability; a flipped pick says which way it went."""
    text = parse(compare_html(acme, beta, personas, Votes(), Votes(), record)).text
    assert "Builder Acme order-stable: the same pick in both orders" in text
    assert (
        "Futurist Tie flipped with the order: Acme when Acme came first, Beta when Beta came first"
        in text
    )


def test_pick_if_lines_in_page_order(acme, beta, personas, parse, record):
    """ "Pick A if" comes before "Pick B if", in the page's order, whichever way the record has them."""
    for first, second in ((acme, beta), (beta, acme)):
        text = parse(compare_html(first, second, personas, Votes(), Votes(), record)).text
        lead = f"Pick {first.tool.name} if"
        assert text.index(lead) < text.index(f"Pick {second.tool.name} if")
    assert "Pick Acme if you need speed" in text and "Pick Beta if you need phones" in text


def test_model_text_is_escaped(acme, beta, personas, record):
    """A reason with markup is text on the page, never a script."""
    html = compare_html(acme, beta, personas, Votes(), Votes(), record)
    assert HOSTILE not in html and "&lt;script&gt;" in html


def test_no_record_no_section(acme, beta, personas, parse):
    """Without a stored comparison the page has no pairwise section."""
    assert (
        "Which should you ship?"
        not in parse(compare_html(acme, beta, personas, Votes(), Votes())).text
    )


def test_markdown_section(acme, beta, personas, record):
    """The Markdown page carries the same verdict and lines."""
    md = compare_markdown(acme, beta, personas, Votes(), Votes(), record)
    assert "## Which should you ship?" in md
    assert "**Acme · 3 of 4 reviewers, order-stable (1 flipped with the order)**" in md
    assert "- **Pick Beta if** you need phones" in md


def test_older_runs_are_noted(acme, beta, personas, parse, record):
    """A comparison made on earlier runs than the page shows says so."""
    older = record.model_copy(update={"a": record.a.model_copy(update={"run_id": "old"})})
    text = parse(compare_html(acme, beta, personas, Votes(), Votes(), older)).text
    assert "Compared on earlier reviews of Acme" in text


def test_site_compare_page_reads_the_store(tmp_path, acme, beta, personas, record):
    """`panel site` renders the stored comparison on the compare page (either order in --pairs)."""
    store = Store(tmp_path / "home")
    for run in (acme, beta):
        store.save_run(run)
    save_pairwise(store, record)
    assert latest_pairwise(store, "beta", "acme") == record
    build_site(store, tmp_path / "out", personas, {"system": 1}, [("beta", "acme")])
    page = (tmp_path / "out" / "compare" / "beta-vs-acme.html").read_text(encoding="utf-8")
    assert "Acme · 3 of 4 reviewers, order-stable" in page
    store.close()
