"""The eval report as Markdown and as an HTML page in the pages' style (their base.html and CSS).

Both templates read one view: titled tables of formatted cells, plus the spread chart's geometry.
HTML autoescapes everything; Markdown escapes each cell. The pages' templates are read as package
data (pages/ is a sibling layer, so none of its code is imported).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from panel.eval.measure import PANEL, persona_names
from panel.eval.report import EvalReport

# The pages' policy: nothing loads from anywhere, no script runs.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; script-src 'none'"
)
CHART_WIDTH = 640
CHART_ROW = 34
CHART_LABEL = 120


@dataclass
class Table:
    title: str
    intro: str
    head: list[str]
    rows: list[list[str]]


@dataclass
class Bar:
    label: str
    y: int
    mean_w: float
    max_x: float
    text: str


@dataclass
class View:
    title: str
    facts: list[tuple[str, str]]
    headline: str
    tables: list[Table]
    chart: list[Bar] = field(default_factory=list)
    chart_height: int = 0
    notes: list[str] = field(default_factory=list)


def num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f}"


def tally(decisions: Sequence[str]) -> str:
    return ", ".join(f"{d} ×{n}" for d, n in Counter(decisions).most_common()) or "–"


def score_spread(scores: Sequence[int], spread: float | None) -> str:
    """A persona's answers as "74 ± 3" (mean ± standard deviation)."""
    if not scores:
        return "failed"
    return f"{sum(scores) / len(scores):.0f} ± {num(spread, 1)}"


def eval_view(report: EvalReport) -> View:
    names = report.personas
    who = lambda w: persona_names(names, w)  # noqa: E731
    consistency = Table(
        "Consistency",
        f"{report.samples} independent reviews of the same sources per tool, averaged over tools: "
        "standard deviation of the score, share of runs agreeing with the majority decision, and "
        "the chance that two runs disagree.",
        ["who", "mean SD", "max SD", "agree with majority", "flip rate"],
        [
            [
                who(r.who),
                num(r.mean_spread),
                num(r.max_spread),
                pct(r.agree_share),
                pct(r.flip_rate),
            ]
            for r in report.consistency
        ],
    )
    independence = Table(
        "Independence",
        "Overlap of two personas' paragraphs in the same run (Jaccard over word 3-grams; "
        f"flagged at {num(report.echo_threshold)} or more). Embeddings: {report.embeddings}.",
        ["pair", "mean overlap", "max overlap", "cosine", "flag"],
        [
            [
                f"{who(r.a)} · {who(r.b)}",
                num(r.mean, 3),
                num(r.max, 3),
                num(r.cosine, 3),
                "repeats reasoning" if r.flagged else "",
            ]
            for r in report.independence
        ],
    )
    robustness = Table(
        "Robustness",
        "One review per variant against the mean of the plain runs: documents in reverse order "
        "(tools with two or more documents), irrelevant boilerplate added, one hostile page from "
        "the red-team corpus added.",
        ["variant", "who", "n", "mean Δ", "mean |Δ|", "flips"],
        [
            [
                r.variant,
                who(r.who),
                str(r.n),
                signed(r.mean_delta),
                num(r.mean_abs_delta),
                str(r.flips),
            ]
            for r in report.robustness
        ],
    )
    agreement = Table(
        "Agreement with labels",
        "Majority decisions against the suite's labels. Confusion: label → what was decided.",
        ["who", "n", "accuracy", "balanced accuracy", "Cohen's κ", "ship →", "skip →"],
        [
            [
                who(r.who),
                str(r.n),
                pct(r.accuracy),
                pct(r.balanced_accuracy),
                num(r.kappa),
                f"{r.confusion['ship']['ship']} ship / {r.confusion['ship']['skip']} skip",
                f"{r.confusion['skip']['ship']} ship / {r.confusion['skip']['skip']} skip",
            ]
            for r in report.agreement
        ],
    )
    evidence = Table(
        "Evidence",
        "Quotes each persona gave for its paragraph, over every review of the eval, checked "
        "against the documents' text (whitespace, quote marks, dashes and case forgiven). "
        "Share: verified over checked; quotes naming a PDF are not checked.",
        ["who", "quotes", "verified", "not found", "unchecked", "verified share"],
        [
            [
                who(r.who),
                str(r.quotes),
                str(r.verified),
                str(r.not_found),
                str(r.unchecked),
                pct(r.verified_share),
            ]
            for r in report.evidence
        ],
    )
    tools = Table(
        "Tools",
        "Each persona's score as mean ± standard deviation over the plain runs.",
        ["tool", "label", "panel", *names.values()],
        [
            [
                t.name,
                t.label or "–",
                tally(t.panel_decisions),
                *(score_spread(p.scores, p.spread) for p in t.personas),
            ]
            for t in report.tools
        ],
    )
    facts = [
        ("suite", report.suite),
        ("model", report.model),
        (
            "tools",
            f"{len(report.tools)} ({sum(t.label is not None for t in report.tools)} labelled)",
        ),
        ("runs per tool", f"{report.samples} plain + robustness variants"),
        ("sources", "descriptions only (--offline)" if report.offline else "fetched"),
        ("reviews", str(report.cost.reviews)),
        (
            "cost",
            f"{usd(report.cost.spent_usd)} spent (estimated {usd(report.cost.estimated_usd)})",
        ),
    ]
    view = View(
        title=f"How good is the panel? {report.suite}",
        facts=facts,
        headline=headline(report),
        tables=[consistency, independence, robustness, agreement, evidence, tools],
        notes=[*report.notes, *(f"{t.name}: {n}" for t in report.tools for n in t.notes)],
    )
    view.chart, view.chart_height = chart(report)
    return view


def headline(report: EvalReport) -> str:
    panel = next((r for r in report.agreement if r.who == PANEL), None)
    if panel is None or panel.balanced_accuracy is None or report.best_member is None:
        return "No labels to compare with: agreement not measured."
    best = next(r for r in report.agreement if r.who == report.best_member)
    verdict = "beats" if report.panel_beats_best else "does not beat"
    return (
        f"The panel's balanced accuracy is {pct(panel.balanced_accuracy)} against "
        f"{pct(best.balanced_accuracy)} for its best member, the "
        f"{persona_names(report.personas, best.who)}: the panel {verdict} its best member."
    )


def chart(report: EvalReport) -> tuple[list[Bar], int]:
    """Bars of mean score SD per persona (and the panel), with a tick at the largest SD."""
    rows = report.consistency
    top = max([r.max_spread or 0.0 for r in rows] + [1.0])
    scale = (CHART_WIDTH - CHART_LABEL - 80) / top
    bars = [
        Bar(
            label=persona_names(report.personas, r.who),
            y=10 + i * CHART_ROW,
            mean_w=round((r.mean_spread or 0.0) * scale, 1),
            max_x=round(CHART_LABEL + (r.max_spread or 0.0) * scale, 1),
            text=f"SD {num(r.mean_spread, 1)} (max {num(r.max_spread, 1)})",
        )
        for i, r in enumerate(rows)
    ]
    return bars, 20 + len(rows) * CHART_ROW


def md_cell(value: object) -> str:
    """A value in a Markdown table cell: one line, pipes and markup characters escaped."""
    text = " ".join(str(value).split())
    for ch in "\\|*_`[]<>":
        text = text.replace(ch, "\\" + ch)
    return text


@cache
def environment(markdown: bool) -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("panel.eval", "templates"), PackageLoader("panel.pages", "templates")]
        ),
        autoescape=False if markdown else select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = md_cell
    return env


def report_markdown(report: EvalReport) -> str:
    return environment(True).get_template("eval.md").render(v=eval_view(report))


def report_html(report: EvalReport) -> str:
    v = eval_view(report)
    nav = {"index": "#top", "methodology": "#top", "feed": "#top"}
    return (
        environment(False)
        .get_template("eval.html")
        .render(
            v=v,
            title=v.title,
            description=v.headline,
            og_type="website",
            csp=CSP,
            nav=nav,
            script=None,
            width=CHART_WIDTH,
            label_w=CHART_LABEL,
        )
    )
