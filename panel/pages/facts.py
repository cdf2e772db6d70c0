"""Facts every page states beside the verdict, as plain strings: the score spread, when the pricing
was read and from where, the conflict note, and the page's one-line summary (meta description).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from panel.model import Run

DESCRIPTION_CHARS = 200  # what search results and link previews show of a description


@dataclass(frozen=True)
class Spread:
    """Highest minus lowest persona score, and who gave each; `text` is what the pages print."""

    points: int | None
    text: str


def spread(run: Run, names: Mapping[str, str]) -> Spread:
    """`29 points (Founder 51 to Futurist 80)`; failed verdicts have no score and take no part."""
    scored: list[tuple[int, str]] = [
        (v.score, names.get(v.persona, v.persona))
        for v in run.verdicts
        if v.status == "ok" and v.score is not None
    ]
    if len(scored) < 2:
        return Spread(None, "— (fewer than two scores)")
    low = min(scored, key=lambda p: p[0])
    high = max(scored, key=lambda p: p[0])
    points = high[0] - low[0]
    if points == 0:
        return Spread(0, f"0 points (all {high[0]})")
    unit = "point" if points == 1 else "points"
    return Spread(points, f"{points} {unit} ({low[1]} {low[0]} to {high[1]} {high[0]})")


def day(iso: str) -> str:
    """The date part of a stored timestamp (`2026-11-25T13:00:00+00:00` -> `2026-11-25`)."""
    return iso[:10]


# Documents the user pasted rather than named: their file names (`description.txt`) are panel's own.
PASTED = {"description": "the reviewer's description", "stdin": "standard input"}


def pricing_source(run: Run) -> str:
    """Where and when the pricing was read: each fetched page's host and fetch date, else the
    documents given with the run and its date (nothing was fetched, so the run's day is when)."""
    fetched = []
    for d in run.documents:
        if d.origin == "url" and d.fetch is not None:
            host = urlsplit(d.fetch.final_url).hostname or d.fetch.final_url
            fetched.append(f"{host}, fetched {day(d.fetch.fetched_at)}")
    if fetched:
        return "; ".join(dict.fromkeys(fetched))
    given = ", ".join(dict.fromkeys(PASTED.get(d.origin, d.name) for d in run.documents))
    given = given or "no documents"
    return f"{given}, as given on {day(run.created_at)} (not fetched)"


def summary(word: str, tool: str, counts: str, mean: str, tagline: str) -> str:
    """The page's description for search results and link previews, in one short line."""
    text = f"{tool}: {word} ({counts}, mean score {mean}/100)."
    if tagline:
        text += f" {tagline.rstrip('.')}."
    return shorten(text)


def shorten(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """`text` cut at a word to at most `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
