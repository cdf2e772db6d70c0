"""Ensemble verdicts on pages: the spread beside the score, and the samples it is the median of."""

from __future__ import annotations

from panel.model import Votes
from panel.pages import compare_html, review_html, review_markdown
from tests.runs import make_run, verdict


def ensemble_run(four):
    """Acme with a Skeptic asked three times (70, 74, 80)."""
    verdicts = four()
    verdicts[1] = verdicts[1].model_copy(
        update={"score": 74, "samples": [70, 74, 80], "samples_failed": 0, "spread": 4.1}
    )
    return make_run("r-ens", verdicts)


def test_review_page_shows_the_spread(panel_of_four, personas, parse):
    """The Skeptic's row reads `74/100 ± 4 · ship`, with the samples beside it; single calls don't."""
    run = ensemble_run(panel_of_four)
    page = parse(review_html(run, [run], personas, Votes()))
    assert "74/100 ± 4 · ship" in page.text
    assert "median of 3 samples: 70, 74, 80" in page.text
    assert "82/100 · ship" in page.text and page.text.count("± ") == 1
    md = review_markdown(run, [run], personas, Votes())
    assert "**74/100 ± 4 · ship** (median of 3 samples: 70, 74, 80)" in md


def test_compare_page_shows_the_spread(panel_of_four, personas, parse):
    """The compare page's scorecard carries the same headline."""
    a = ensemble_run(panel_of_four)
    b = make_run("r-b", [verdict("skeptic", 40)], slug="bolt")
    page = parse(compare_html(a, b, personas, Votes(), Votes()))
    assert "74/100 ± 4 · ship" in page.text and "40/100 · skip" in page.text
