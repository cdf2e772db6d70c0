"""View data of the site-wide pages: the methodology (from persona files and prompt versions, so a new
persona file appears with no other change) and the index of every tool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from panel.config import DEFAULT_QUORUM, DEFAULT_SHIP_THRESHOLD
from panel.judge.conflict import conflict, vendors
from panel.judge.personas import Persona
from panel.model import Run
from panel.pages.links import compare_page, tool_page
from panel.pages.views import WORDS, card_view, day, score_text


@dataclass(frozen=True)
class ReviewerView:
    id: str
    name: str
    version: int
    summary: str
    lens: list[str]
    ship_bar: str


@dataclass(frozen=True)
class MethodologyView:
    reviewers: list[ReviewerView]
    rules: list[str]
    prompt_versions: list[tuple[str, int]]


@dataclass(frozen=True)
class IndexRow:
    name: str
    href: str
    badge: str
    category: str
    tone: str
    word: str
    label: str
    counts: str  # "1 ship / 3 skip": the word stands beside it, once
    conflict: str | None  # the conflict-of-interest note, when the tool is the model vendor's
    mean: str
    mean_sort: str  # a number for the sorter; -1 when there is no mean
    date: str
    datetime: str


@dataclass(frozen=True)
class IndexView:
    rows: list[IndexRow]
    categories: list[str]
    compares: list[tuple[str, str]]  # (title, href)
    summary: str  # "3 tools: 2 ship, 1 skip"


def decision_rules(threshold: float, quorum: int) -> list[str]:
    """The reducer in words; the numbers come from the same constants `decide` uses."""
    return [
        "Each reviewer answers independently with a score from 0 to 100, ship or skip, and one "
        "paragraph.",
        "The panel decides by majority of the reviewers who answered.",
        f"A tie goes to ship only when the mean score is at least {threshold:g}; otherwise skip.",
        f"With fewer than {quorum} successful verdicts the panel is incomplete and decides nothing.",
        "A reviewer whose answer failed is counted apart: never as a skip, never as a zero.",
        *(
            f"When a tool comes from {v.name}, whose model the reviewers are, its page says so "
            "at the top, beside the verdict."
            for v in vendors()
        ),
    ]


def methodology_view(
    personas: Sequence[Persona],
    prompt_versions: Mapping[str, int],
    *,
    threshold: float = DEFAULT_SHIP_THRESHOLD,
    quorum: int = DEFAULT_QUORUM,
) -> MethodologyView:
    """Who reviews and how the panel decides, straight from the persona files and prompt versions."""
    return MethodologyView(
        reviewers=[
            ReviewerView(p.id, p.name, p.version, p.summary, list(p.lens), p.ship_bar)
            for p in personas
        ],
        rules=decision_rules(threshold, quorum),
        prompt_versions=sorted(prompt_versions.items()),
    )


def index_view(runs: Sequence[Run], pairs: Sequence[tuple[Run, Run]] = ()) -> IndexView:
    """One row per tool (its latest run, in the order given) and a link per comparison."""
    rows = []
    for run in runs:
        card = card_view(run)
        mean = run.panel.mean_score
        p = run.panel
        found = conflict(run)
        rows.append(
            IndexRow(
                name=card.name,
                href=tool_page(run.tool.slug),
                badge=card.badge,
                category=card.category,
                tone=run.panel.decision,
                word=WORDS[run.panel.decision],
                label=run.panel.label,
                counts=f"{p.ship} ship / {p.skip} skip",
                conflict=found.note if found else None,
                mean=score_text(mean),
                mean_sort="-1" if mean is None else f"{mean:.1f}",
                date=day(run.created_at),
                datetime=run.created_at,
            )
        )
    compares = [
        (f"{card_view(a).name} vs {card_view(b).name}", compare_page(a.tool.slug, b.tool.slug))
        for a, b in pairs
    ]
    return IndexView(rows, sorted({r.category for r in rows}), compares, tally(rows))


def tally(rows: Sequence[IndexRow]) -> str:
    """How the latest verdicts fall: `3 tools: 2 ship, 1 skip` (and any incomplete)."""
    counts = {w: sum(r.tone == w for r in rows) for w in ("ship", "skip", "incomplete")}
    parts = [f"{n} {w}" for w, n in counts.items() if n or w != "incomplete"]
    noun = "tool" if len(rows) == 1 else "tools"
    return f"{len(rows)} {noun}: {', '.join(parts)}"
