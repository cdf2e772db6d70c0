"""The Atom feed of the latest verdicts, built by feedgen (which escapes) rather than by hand.

Stable by construction: each entry's dates are its run's `created_at` and the feed's own `updated`
is the newest run's, so rebuilding an unchanged site produces identical bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from panel.judge.conflict import conflict
from panel.judge.evidence import Tally, tally
from panel.judge.evidence import summary as evidence_summary
from panel.model import Run
from panel.pages import links
from panel.pages.escaping import without_controls
from panel.pages.views import WORDS, card_view, score_text

FEED_ID = "urn:panel:feed:verdicts"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # an empty feed's `updated`: fixed, never "now"


def _when(iso: str) -> datetime:
    """A run's timestamp as an aware datetime (a naive one is taken as UTC, as runs are written)."""
    when = datetime.fromisoformat(iso)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def text(value: str) -> str:
    """Model-written or fetched text as XML allows it: no control characters."""
    return str(without_controls(value))


def _link(page: str, site_url: str | None) -> str:
    return f"{site_url.rstrip('/')}/{page}" if site_url else page


def entry_text(run: Run) -> str:
    """An entry's text: the verdict and its counts, then the tagline as a sentence of its own,
    then the conflict note when there is one (never the tagline run into the label)."""
    p, card = run.panel, card_view(run)
    parts = [
        f"{WORDS[p.decision]}: {p.ship} ship / {p.skip} skip, "
        f"mean score {score_text(p.mean_score)}/100."
    ]
    if card.tagline:
        parts.append(card.tagline.rstrip(". ") + ".")
    if any(v.evidence is not None for v in run.verdicts):
        parts.append(
            evidence_summary(sum((tally(v.evidence) for v in run.verdicts), Tally())) + "."
        )
    found = conflict(run)
    if found:
        parts.append(found.note)
    return " ".join(parts)


def atom_feed(runs: Sequence[Run], *, site_url: str | None = None) -> bytes:
    """One entry per run given (each tool's latest), newest first; links relative unless `site_url`."""
    ordered = sorted(runs, key=lambda r: (r.created_at, r.run_id), reverse=True)
    fg = FeedGenerator()
    fg.id(FEED_ID)
    fg.title("panel: ship or skip verdicts")
    fg.subtitle("The latest verdicts of a four-reviewer LLM panel on software tools.")
    fg.author({"name": "panel"})
    fg.link(href=_link(links.FEED, site_url), rel="self")
    fg.link(href=_link(links.INDEX, site_url), rel="alternate")
    fg.language("en")
    fg.generator("panel")  # no version: a library upgrade should not rewrite the feed
    fg.updated(_when(ordered[0].created_at) if ordered else EPOCH)
    for run in ordered:
        card = card_view(run)
        when = _when(run.created_at)
        entry = fg.add_entry(order="append")
        entry.id(f"urn:panel:run:{run.run_id}")
        entry.title(text(f"{card.name}: {run.panel.label}"))
        entry.link(href=_link(links.tool_page(run.tool.slug), site_url), rel="alternate")
        entry.published(when)
        entry.updated(when)
        entry.category(term=text(card.category))
        entry.summary(text(entry_text(run)))
    return fg.atom_str(pretty=True)
