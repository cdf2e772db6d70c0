"""`panel eval`'s evidence measure: the share of verified quotes per persona and for the panel."""

from __future__ import annotations

from panel.eval.measure import evidence
from panel.model import Evidence
from tests.runs import make_run, verdict


def quotes(*statuses: str) -> list[Evidence]:
    return [Evidence(quote=f"q{i}", document="1", status=s) for i, s in enumerate(statuses)]  # type: ignore[arg-type]


def test_share_of_verified_quotes_per_persona_and_for_the_panel() -> None:
    """Builder 2 of 2, Skeptic 1 of 3 checked (one PDF quote left out): panel 3 of 5."""
    builder = verdict("builder", 80).model_copy(update={"evidence": quotes("verified")})
    skeptic = verdict("skeptic", 40).model_copy(
        update={"evidence": quotes("verified", "not found", "unchecked")}
    )
    runs = [
        make_run("r1", [builder, skeptic]),
        make_run("r2", [builder, skeptic.model_copy(update={"evidence": quotes("not found")})]),
    ]
    rows = {r.who: r for r in evidence(runs, ["builder", "skeptic"])}
    assert (rows["builder"].quotes, rows["builder"].verified_share) == (2, 1.0)
    skep = rows["skeptic"]
    assert (skep.quotes, skep.verified, skep.not_found, skep.unchecked) == (4, 1, 2, 1)
    assert skep.verified_share == 0.333
    assert (rows["panel"].quotes, rows["panel"].verified_share) == (6, 0.6)


def test_verdicts_without_quotes_have_no_share() -> None:
    """Old records (evidence None) and failed verdicts count no quotes: the share is unknown."""
    runs = [make_run("r1", [verdict("builder", 80), verdict("skeptic", None)])]
    rows = evidence(runs, ["builder", "skeptic"])
    assert [(r.who, r.quotes, r.verified_share) for r in rows] == [
        ("builder", 0, None),
        ("skeptic", 0, None),
        ("panel", 0, None),
    ]
