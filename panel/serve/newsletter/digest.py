"""The digest: the verdicts of a recent span and the comparisons among them, from stored runs only.

Pure over what the store holds (no API call, no clock but the `now` it is given); rendered once
as HTML (inline styles, no external asset) and as text, with each subscriber's own unsubscribe
link put in at the end.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from panel.errors import InputError
from panel.judge.personas import Persona
from panel.model import Run
from panel.pages import links
from panel.pages.site import pair_runs
from panel.pages.views import WORDS, card_view, day, score_text, scorecard
from panel.serve.newsletter import render
from panel.store.records import BadRecord
from panel.store.sqlite import Store

# `--since`: a number and a unit (hours, days, weeks), from an hour to a year.
_SPAN = re.compile(r"^\s*(\d{1,6})\s*([hdw])\s*$", re.IGNORECASE | re.ASCII)
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MIN_SINCE = timedelta(hours=1)
MAX_SINCE = timedelta(days=365)
DEFAULT_SINCE = "7d"
# The version of what `Digest.key` hashes: bumped if it ever hashes something else.
KEY_VERSION = 1


def parse_since(text: str) -> timedelta:
    """`7d`, `36h`, `2w`: a span from 1h to 365d, or one line saying what to give."""
    match = _SPAN.match(text)
    span = int(match.group(1)) * UNITS[match.group(2).lower()] if match else None
    if span is None or not MIN_SINCE <= span <= MAX_SINCE:
        raise InputError(f"--since {text!r}: give a span from 1h to 365d, like 7d, 36h or 2w")
    return span


def _when(iso: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DigestItem:
    """One tool reviewed in the span: its latest verdict there, and the one before it if any."""

    run_id: str
    name: str
    url: str
    tone: str  # ship | skip | incomplete
    word: str
    label: str
    mean: str
    category: str
    tagline: str
    date: str
    was: str  # the previous run's label, or ""
    scores: list[tuple[str, str]]  # (persona, "82/100 · ship" or "failed: ...")


@dataclass(frozen=True)
class DigestPair:
    runs: tuple[str, str]  # the run ids of A and B, as shown
    title: str
    url: str
    a: str
    b: str


@dataclass(frozen=True)
class Digest:
    since: str
    start: str
    end: str
    items: list[DigestItem]
    pairs: list[DigestPair]

    @property
    def heading(self) -> str:
        week = parse_since(self.since) == timedelta(weeks=1)
        return "This week's verdicts" if week else f"The verdicts of the last {self.since}"

    @property
    def subject(self) -> str:
        tools = f"{len(self.items)} tool{'s' if len(self.items) != 1 else ''}"
        return f"panel: {self.heading[0].lower()}{self.heading[1:]} ({tools}, to {self.end})"

    @property
    def key(self) -> str:
        """What makes two digests the same one: the runs and comparisons they show, not the
        moment or span they were asked for. `panel digest --send` records sends under it, so
        sending the same digest again (an hour later, or with `--since 8d`) mails nobody twice,
        while a digest with a new run in it is a new digest."""
        shown = {
            "version": KEY_VERSION,
            "runs": sorted(item.run_id for item in self.items),
            "pairs": sorted(list(pair.runs) for pair in self.pairs),
        }
        return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()

    def text(self, unsubscribe_url: str) -> str:
        return render.text("digest.txt", digest=self, unsubscribe_url=unsubscribe_url)

    def html(self, unsubscribe_url: str) -> str:
        return render.html("digest.html", digest=self, unsubscribe_url=unsubscribe_url)


def runs_since(store: Store, start: datetime) -> list[str]:
    """Each tool's latest run when it was made at or after `start`, newest first."""
    return [
        row["run_id"]
        for row in store.tools()
        if (when := _when(row["created_at"])) is not None and when >= start
    ]


def _previous_label(store: Store, run: Run) -> str:
    """The label of the tool's run before `run`, or "" (none, or its record is unreadable)."""
    ids = store.run_ids(run.tool.slug)
    before = ids[: ids.index(run.run_id)] if run.run_id in ids else []
    if not before:
        return ""
    try:
        return store.load_run(before[-1]).panel.label
    except BadRecord:
        return ""


def _item(store: Store, run: Run, personas: Sequence[Persona], site: str) -> DigestItem:
    card = card_view(run)
    was = _previous_label(store, run)
    return DigestItem(
        run_id=run.run_id,
        name=card.name,
        url=site + links.tool_page(run.tool.slug),
        tone=run.panel.decision,
        word=WORDS[run.panel.decision],
        label=run.panel.label,
        mean=score_text(run.panel.mean_score),
        category=card.category,
        tagline=card.tagline,
        date=day(run.created_at),
        was=was if was != run.panel.label else "",
        scores=[(row.name, row.headline) for row in scorecard(run, personas)],
    )


def build_digest(
    store: Store,
    personas: Sequence[Persona],
    since: timedelta,
    *,
    base_url: str,
    pairs: Sequence[tuple[str, str]] = (),
    now: datetime | None = None,
    since_text: str = DEFAULT_SINCE,
    problems: list[str] | None = None,
) -> Digest:
    """The digest of the runs recorded in the last `since`; `pairs` (as `panel site --pairs`)
    become comparisons when either tool was reviewed in that span. Unreadable records are named
    in `problems` and left out."""
    now = now or datetime.now(UTC)
    start = now - since
    site = base_url.rstrip("/") + "/"
    problems = [] if problems is None else problems
    runs = store.readable_runs(runs_since(store, start), problems)
    items = [_item(store, run, personas, site) for run in runs]
    recent = {run.tool.slug for run in runs}
    found: list[DigestPair] = []
    for name_a, name_b in pairs:
        a, b = pair_runs(store, name_a, name_b)
        if {a.tool.slug, b.tool.slug} & recent:
            ca, cb = card_view(a), card_view(b)
            found.append(
                DigestPair(
                    runs=(a.run_id, b.run_id),
                    title=f"{ca.name} vs {cb.name}",
                    url=site + links.compare_page(a.tool.slug, b.tool.slug),
                    a=f"{ca.name}: {a.panel.label}",
                    b=f"{cb.name}: {b.panel.label}",
                )
            )
    return Digest(since_text, day(start.isoformat()), day(now.isoformat()), items, found)
