"""Plain view data computed from stored records, so templates only place values and never decide.

Every string here may be model-written or fetched; templates escape it. Failure stays visible: a
failed verdict becomes `failed: <reason>`, never a skip or a zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from panel.judge.conflict import conflict
from panel.judge.evidence import summary as evidence_summary
from panel.judge.evidence import tally
from panel.judge.personas import Persona
from panel.model import DocumentRef, Evidence, Pairwise, Run, ToolCard, VerdictRecord, Votes
from panel.pages.charts import ChartView, score_charts
from panel.pages.facts import pricing_source, spread, summary
from panel.pages.links import safe_href
from panel.pages.pairwise import PairwiseView, pairwise_view
from panel.store.history import history

NOT_STATED = "Not stated"
NOT_REVIEWED = "not reviewed in this run"
ENTRY_PRICE = {
    "free": "Free",
    "freemium": "Freemium",
    "paid": "Paid",
    "open source": "Open source",
    "usage-based": "Usage-based",
    "unknown": "Unknown",
}
WORDS = {"ship": "Ship", "skip": "Skip", "incomplete": "Incomplete"}


@dataclass(frozen=True)
class CardView:
    """The tool card; a run whose card could not be made still gets a readable one."""

    slug: str
    name: str
    badge: str
    category: str
    tagline: str
    description: str
    pricing: str
    entry: str
    best_for: str


@dataclass(frozen=True)
class VerdictView:
    """The panel's decision as a reader scans it: word first, colour only as a second cue."""

    tone: str  # ship | skip | incomplete: a CSS class, always shown beside the word
    word: str
    share: str  # "100%"
    share_caption: str
    label: str
    counts: str  # "1 ship / 3 skip", the label without its word (the word is the headline)
    mean: str
    spread: str  # "30 points (Founder 51 to Futurist 81)"
    dissent: str
    community: str


@dataclass(frozen=True)
class QuoteView:
    """A quote beside its verdict: what the check found, and the document it names."""

    text: str
    status: str  # verified | not found | unchecked: a CSS class, always shown beside the word
    label: str  # "Found in the source", ...
    source: str  # the document's title, or its file name
    href: str | None  # the page it was fetched from, only http(s)


@dataclass(frozen=True)
class EvidenceView:
    """A verdict's quotes; `flagged` when any could be checked and was not found (never hidden)."""

    summary: str  # "2 of 3 quotes found in the sources"
    flagged: bool
    quotes: list[QuoteView]


@dataclass(frozen=True)
class ScoreRow:
    """One persona's verdict: `82/100 · ship`, or `failed: <reason>` with no score at all."""

    persona: str
    name: str
    status: str  # ok | failed | missing
    tone: str  # ship | skip | failed | missing
    headline: str
    score: int | None
    paragraph: str
    warning: str | None
    samples: str = ""  # an ensemble verdict: "median of 3 samples: 70, 74, 80"
    evidence: EvidenceView | None = None  # None: a record from before verdicts carried quotes


@dataclass(frozen=True)
class SourceView:
    text: str
    href: str | None  # only http(s); anything else is shown as text


@dataclass(frozen=True)
class ReviewView:
    card: CardView
    verdict: VerdictView
    scorecard: list[ScoreRow]
    date: str
    datetime: str
    model: str
    cost: str
    run_id: str
    sources: list[SourceView]
    charts: list[ChartView]  # the wide layout and the narrow one (phones)
    history_names: list[str]
    history_rows: list[tuple[str, list[str]]]
    pricing_source: str  # where and when the pricing was read
    conflict: str | None  # the conflict-of-interest note (after its label), when there is one
    description: str  # the page's summary for <meta name="description"> and Open Graph


@dataclass(frozen=True)
class PersonaPair:
    name: str
    a: ScoreRow
    b: ScoreRow


@dataclass(frozen=True)
class CompareView:
    title: str
    a: ReviewView
    b: ReviewView
    decision_rows: list[tuple[str, str, str]]
    personas: list[PersonaPair]
    headline: str  # the comparison's verdict: "Ship Tern, skip Kestrel"
    pairwise: PairwiseView | None = None  # the stored "which should you ship?" verdict, if any


def badge(name: str) -> str:
    """The card's letter badge: the first letter or digit of the name, uppercased."""
    return next((c.upper() for c in name if c.isalnum()), "?")


def card_view(run: Run) -> CardView:
    card: ToolCard | None = run.tool.card
    name = card.name if card and not run.tool.name_given else run.tool.name
    return CardView(
        slug=run.tool.slug,
        name=name,
        badge=badge(name),
        category=card.category if card else "Uncategorised",
        tagline=card.tagline if card else "",
        description=card.description if card else (run.tool.card_error or NOT_STATED),
        pricing=card.pricing_summary if card else NOT_STATED,
        entry=ENTRY_PRICE.get(card.pricing_model if card else "unknown", "Unknown"),
        best_for=card.best_for if card else NOT_STATED,
    )


def display_names(personas: Sequence[Persona]) -> dict[str, str]:
    return {p.id: p.name for p in personas}


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def score_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def verdict_view(run: Run, names: Mapping[str, str], votes: Votes) -> VerdictView:
    p = run.panel
    dissent = ", ".join(names.get(d, d) for d in p.dissenters)
    counts = f"{p.ship} ship / {p.skip} skip" + (f" / {p.failed} failed" if p.failed else "")
    return VerdictView(
        tone=p.decision,
        word=WORDS[p.decision],
        share=percent(p.ship_share),
        share_caption="Panel ship",
        label=p.label,
        counts=counts,
        mean=score_text(p.mean_score),
        spread=spread(run, names).text,
        dissent=dissent or ("no verdicts to agree on" if p.decision == "incomplete" else "none"),
        community=votes.label,
    )


QUOTE_LABELS = {
    "verified": "Found in the source",
    "not found": "Not found in the sources",
    "unchecked": "Not checked (PDF)",
}


def quote_source(e: Evidence, documents: Sequence[DocumentRef]) -> tuple[str, str | None]:
    """The document a quote comes from: a fetched page's title and URL (a link only if http(s)),
    a file's name, else the title; the model's own words for a document the run did not send."""
    if e.document_index is None or not 0 <= e.document_index < len(documents):
        return e.document, None
    d = documents[e.document_index]
    if d.origin == "url":
        url = d.fetch.final_url if d.fetch else d.source
        return d.title or url, safe_href(url)
    return (d.name if d.origin == "file" else d.title or d.name), None


def evidence_view(v: VerdictRecord, documents: Sequence[DocumentRef]) -> EvidenceView | None:
    if v.evidence is None:
        return None
    t = tally(v.evidence)
    quotes = [
        QuoteView(e.quote, e.status, QUOTE_LABELS[e.status], *quote_source(e, documents))
        for e in v.evidence
    ]
    return EvidenceView(evidence_summary(t), t.not_found > 0, quotes)


def score_row(
    persona: str, name: str, v: VerdictRecord | None, documents: Sequence[DocumentRef] = ()
) -> ScoreRow:
    if v is None:
        return ScoreRow(persona, name, "missing", "missing", NOT_REVIEWED, None, "", None)
    if v.status != "ok" or v.score is None or v.decision is None:
        reason = v.error or "no usable answer"
        return ScoreRow(persona, name, "failed", "failed", f"failed: {reason}", None, "", None)
    warning = None
    if v.injection_suspected:
        quote = f": “{v.injection_evidence}”" if v.injection_evidence else ""
        warning = f"Possible prompt injection in the sources{quote}"
    spread = "" if v.spread is None else f" ± {round(v.spread)}"
    headline = f"{v.score}/100{spread} · {v.decision}"
    return ScoreRow(
        persona,
        name,
        "ok",
        v.decision,
        headline,
        v.score,
        v.rationale or "",
        warning,
        samples_note(v),
        evidence_view(v, documents),
    )


def samples_note(v: VerdictRecord) -> str:
    """Which samples an ensemble verdict is the median of; empty for a single call."""
    if v.samples is None:
        return ""
    failed = f", {v.samples_failed} failed" if v.samples_failed else ""
    scores = ", ".join(map(str, v.samples))
    return f"median of {len(v.samples)} samples: {scores}{failed}"


def persona_order(personas: Sequence[Persona], runs: Sequence[Run]) -> list[str]:
    """The panel's order first, then any persona a run has that the current panel does not."""
    ids = [p.id for p in personas]
    for run in runs:
        ids += [v.persona for v in run.verdicts if v.persona not in ids]
    return ids


def scorecard(run: Run, personas: Sequence[Persona]) -> list[ScoreRow]:
    names = display_names(personas)
    by_id = {v.persona: v for v in run.verdicts}
    return [
        score_row(pid, names.get(pid, pid), by_id[pid], run.documents)
        for pid in persona_order(personas, [run])
        if pid in by_id
    ]


def day(iso: str) -> str:
    """`2026-11-25` from a stored ISO timestamp; an odd one is shown as it is."""
    try:
        return datetime.fromisoformat(iso).date().isoformat()
    except ValueError:
        return iso


def run_labels(stamps: Sequence[str]) -> list[str]:
    """Each run's label on the chart and in the history table: its day, with the time (UTC, as
    recorded) when another run shares that day, and the seconds when one shares the minute, so
    no two columns read the same."""
    days = [day(s) for s in stamps]
    minutes = [f"{d} {clock(s, '%H:%M')}" for d, s in zip(days, stamps, strict=True)]
    out = []
    for d, m, s in zip(days, minutes, stamps, strict=True):
        if days.count(d) == 1:
            out.append(d)
        else:
            out.append(m if minutes.count(m) == 1 else f"{d} {clock(s, '%H:%M:%S')}")
    return out


def clock(iso: str, fmt: str) -> str:
    """The time of a stored ISO timestamp in `fmt`; empty when it has none."""
    try:
        return datetime.fromisoformat(iso).strftime(fmt)
    except ValueError:
        return ""


def sources(run: Run) -> list[SourceView]:
    """Each document the run used; only an http(s) URL becomes a link, the rest stays text."""
    out = []
    for d in run.documents:
        if d.origin != "url":
            out.append(SourceView(f"{d.title or d.name} ({d.origin})", None))
            continue
        url = d.fetch.final_url if d.fetch else d.source
        text = d.title if d.title and d.title != url else url
        href = safe_href(url)
        if href is None and text != url:
            text = f"{text} — {url}"
        out.append(SourceView(text, href))
    return out


def cell(scores: Mapping[str, int | None], pid: str) -> str:
    """A history table cell: the score, `failed` (never 0), or a dash when the persona sat out."""
    if pid not in scores:
        return "—"
    score = scores[pid]
    return "failed" if score is None else str(score)


def review_view(
    run: Run, runs: Sequence[Run], personas: Sequence[Persona], votes: Votes
) -> ReviewView:
    """The review page of `run`; `runs` (oldest first) feed the score history chart."""
    names = display_names(personas)
    runs = list(runs) or [run]
    h = history(runs)
    order = [pid for pid in persona_order(personas, runs) if pid in h.trend]
    trend = [(names.get(pid, pid), h.trend[pid]) for pid in order]
    dates = [e.created_at for e in h.runs]
    card = card_view(run)
    labels = run_labels(dates)
    rows = [
        (label, [cell(e.scores, pid) for pid in order])
        for label, e in zip(labels, h.runs, strict=True)
    ]
    verdict = verdict_view(run, names, votes)
    found = conflict(run)
    return ReviewView(
        card=card,
        verdict=verdict,
        scorecard=scorecard(run, personas),
        date=day(run.created_at),
        datetime=run.created_at,
        model=run.model,
        cost="not recorded" if run.cost_usd is None else f"${run.cost_usd:.2f}",
        run_id=run.run_id,
        sources=sources(run),
        charts=score_charts(f"{card.name}: each reviewer's score by run", labels, trend),
        history_names=[n for n, _ in trend],
        history_rows=rows,
        pricing_source=pricing_source(run),
        conflict=found.text if found else None,
        description=summary(verdict.word, card.name, verdict.counts, verdict.mean, card.tagline),
    )


def compare_view(
    a: Run,
    b: Run,
    personas: Sequence[Persona],
    votes_a: Votes,
    votes_b: Votes,
    pairwise: Pairwise | None = None,
) -> CompareView:
    """Two tools side by side, in the seed's order: cards, the Decision table, the scorecard."""
    va = review_view(a, [a], personas, votes_a)
    vb = review_view(b, [b], personas, votes_b)
    names = display_names(personas)
    by_a = {v.persona: v for v in a.verdicts}
    by_b = {v.persona: v for v in b.verdicts}
    pairs = [
        PersonaPair(
            names.get(pid, pid),
            score_row(pid, names.get(pid, pid), by_a.get(pid), a.documents),
            score_row(pid, names.get(pid, pid), by_b.get(pid), b.documents),
        )
        for pid in persona_order(personas, [a, b])
        if pid in by_a or pid in by_b
    ]
    rows = [
        ("Panel verdict", va.verdict.label, vb.verdict.label),
        ("Community", va.verdict.community, vb.verdict.community),
        ("Pricing", va.card.pricing, vb.card.pricing),
        ("Pricing read", va.pricing_source, vb.pricing_source),
        ("Best for", va.card.best_for, vb.card.best_for),
        ("Category", va.card.category, vb.card.category),
        ("Mean score", va.verdict.mean, vb.verdict.mean),
        ("Spread", va.verdict.spread, vb.verdict.spread),
        ("Reviewed", f"{va.date} by {va.model}", f"{vb.date} by {vb.model}"),
    ]
    title = f"{va.card.name} vs {vb.card.name}"
    pick = pairwise_view(pairwise, a, b, names) if pairwise is not None else None
    return CompareView(title, va, vb, rows, pairs, compare_headline(va, vb), pick)


def compare_headline(a: ReviewView, b: ReviewView) -> str:
    """The comparison's verdict in words: "Ship Tern, skip Kestrel", "Skip both", ..."""
    da, db = a.verdict.tone, b.verdict.tone
    if "incomplete" in (da, db):
        return f"{a.card.name}: {a.verdict.word} · {b.card.name}: {b.verdict.word}"
    if da == db:
        return f"{a.verdict.word} both {a.card.name} and {b.card.name}"
    ship, skip = (a, b) if da == "ship" else (b, a)
    return f"Ship {ship.card.name}, skip {skip.card.name}"
