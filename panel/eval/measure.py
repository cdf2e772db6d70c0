"""From recorded runs to the eval report (pure): every number comes from `metrics`.

A tool's runs are K plain runs of the same sources plus one run per robustness variant. Failed
verdicts are left out of every measure and counted, never read as a skip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from panel.config import DEFAULT_SHIP_THRESHOLD
from panel.eval import metrics
from panel.eval.report import (
    AgreementRow,
    ConsistencyRow,
    EvidenceRow,
    OverlapRow,
    PersonaDelta,
    PersonaSamples,
    RobustnessRow,
    ToolResult,
    VariantResult,
)
from panel.eval.suite import SuiteTool
from panel.judge.evidence import Tally, tally
from panel.model.run import Run

# A pair of paragraphs sharing this share of their word 3-grams repeats the same reasoning:
# paragraphs written apart on the same documents share well under 0.1.
DEFAULT_ECHO_THRESHOLD = 0.3
PANEL = "panel"

Embed = Callable[[list[str]], list[list[float]]]


@dataclass
class ToolRuns:
    tool: SuiteTool
    samples: list[Run]
    variants: dict[str, Run] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def decided(decisions: Sequence[str], scores: Sequence[float], threshold: float) -> str | None:
    """The majority decision; a tie goes to ship only when the mean score reaches the threshold."""
    found = metrics.majority(decisions)
    if found is not None or not decisions:
        return found
    average = metrics.mean(scores)
    return "ship" if average is not None and average >= threshold else "skip"


def persona_samples(persona: str, runs: Sequence[Run], threshold: float) -> PersonaSamples:
    verdicts = [v for r in runs for v in r.verdicts if v.persona == persona]
    ok = [v for v in verdicts if v.status == "ok" and v.score is not None and v.decision]
    scores = [v.score for v in ok if v.score is not None]
    decisions = [str(v.decision) for v in ok]
    return PersonaSamples(
        persona=persona,
        scores=scores,
        decisions=decisions,
        spread=metrics.spread(scores),
        majority=decided(decisions, scores, threshold),
        agree_share=metrics.majority_share(decisions),
        failed=len(verdicts) - len(ok),
    )


def variant_result(
    name: str, run: Run, samples: Sequence[PersonaSamples], panel_majority: str | None
) -> VariantResult:
    """One variant's run against the plain runs: score minus their mean, decision flips."""
    by_persona = {p.persona: p for p in samples}
    deltas = []
    for v in run.verdicts:
        base = by_persona.get(v.persona)
        baseline = metrics.mean(base.scores) if base is not None else None
        ok = v.status == "ok" and v.score is not None and baseline is not None
        deltas.append(
            PersonaDelta(
                persona=v.persona,
                baseline=baseline,
                score=v.score if v.status == "ok" else None,
                delta=round(v.score - baseline, 2)
                if ok and v.score is not None and baseline is not None
                else None,
                flipped=ok and base is not None and v.decision != base.majority,
            )
        )
    decision = run.panel.decision
    return VariantResult(
        variant=name,
        run_id=run.run_id,
        panel_decision=decision,
        panel_flipped=decision != "incomplete" and decision != panel_majority,
        personas=deltas,
    )


def tool_result(
    runs: ToolRuns, personas: Sequence[str], threshold: float = DEFAULT_SHIP_THRESHOLD
) -> ToolResult:
    samples = [persona_samples(p, runs.samples, threshold) for p in personas]
    decisions = [r.panel.decision for r in runs.samples if r.panel.decision != "incomplete"]
    scores = [r.panel.mean_score for r in runs.samples]
    majority = decided(decisions, [s for s in scores if s is not None], threshold)
    first = runs.samples[0] if runs.samples else None
    return ToolResult(
        name=runs.tool.name,
        slug=runs.tool.slug,
        label=runs.tool.label,
        outcome=runs.tool.outcome,
        reason=runs.tool.reason,
        documents=len(first.documents) if first is not None else 0,
        run_ids=[r.run_id for r in runs.samples],
        personas=samples,
        panel_decisions=[r.panel.decision for r in runs.samples],
        panel_scores=scores,
        panel_majority=majority,
        robustness=[variant_result(k, r, samples, majority) for k, r in runs.variants.items()],
        notes=runs.notes,
    )


def consistency(tools: Sequence[ToolResult], personas: Sequence[str]) -> list[ConsistencyRow]:
    """Per persona and for the panel: spread of scores, agreement with the majority, flips."""
    rows = []
    for persona in personas:
        found = [p for t in tools for p in t.personas if p.persona == persona]
        spreads = [p.spread for p in found if p.spread is not None]
        shares = [p.agree_share for p in found if p.agree_share is not None]
        flips = [f for p in found if (f := metrics.flip_rate(p.decisions)) is not None]
        rows.append(
            ConsistencyRow(
                who=persona,
                mean_spread=metrics.mean(spreads),
                max_spread=max(spreads) if spreads else None,
                agree_share=metrics.mean(shares),
                flip_rate=metrics.mean(flips),
            )
        )
    spreads, shares, flips = [], [], []
    for t in tools:
        scores = [s for s in t.panel_scores if s is not None]
        decisions = [d for d in t.panel_decisions if d != "incomplete"]
        if (s := metrics.spread(scores)) is not None:
            spreads.append(s)
        if (a := metrics.majority_share(decisions)) is not None:
            shares.append(a)
        if (f := metrics.flip_rate(decisions)) is not None:
            flips.append(f)
    rows.append(
        ConsistencyRow(
            who=PANEL,
            mean_spread=metrics.mean(spreads),
            max_spread=max(spreads) if spreads else None,
            agree_share=metrics.mean(shares),
            flip_rate=metrics.mean(flips),
        )
    )
    return rows


def paragraphs(run: Run) -> dict[str, str]:
    return {v.persona: v.rationale for v in run.verdicts if v.status == "ok" and v.rationale}


def independence(
    runs: Sequence[Run],
    personas: Sequence[str],
    threshold: float = DEFAULT_ECHO_THRESHOLD,
    embed: Embed | None = None,
) -> list[OverlapRow]:
    """Every pair of personas: mean and max overlap of their paragraphs within one run."""
    seen: dict[tuple[str, str], list[float]] = {}
    cosines: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        texts = paragraphs(run)
        ordered = {p: texts[p] for p in personas if p in texts}
        for pair, value in metrics.overlaps(ordered).items():
            seen.setdefault(pair, []).append(value)
        if embed is not None and len(ordered) > 1:
            vectors = dict(zip(ordered, embed(list(ordered.values())), strict=True))
            for a, b in metrics.overlaps(ordered):
                cosines.setdefault((a, b), []).append(metrics.cosine(vectors[a], vectors[b]))
    rows = []
    for i, a in enumerate(personas):
        for b in personas[i + 1 :]:
            values = seen.get((a, b), [])
            average = metrics.mean(values)
            rows.append(
                OverlapRow(
                    a=a,
                    b=b,
                    mean=average,
                    max=max(values) if values else None,
                    cosine=metrics.mean(cosines.get((a, b), [])),
                    flagged=average is not None and average >= threshold,
                )
            )
    return rows


def evidence(runs: Sequence[Run], personas: Sequence[str]) -> list[EvidenceRow]:
    """Per persona and for the panel: the quotes given over `runs` and the share found in the
    sources. Verdicts recorded before quotes existed (evidence None) count no quotes."""

    def row(who: str, t: Tally) -> EvidenceRow:
        share = None if t.share is None else round(t.share, 3)
        return EvidenceRow(
            who=who,
            quotes=t.given,
            verified=t.verified,
            not_found=t.not_found,
            unchecked=t.unchecked,
            verified_share=share,
        )

    ok = [v for r in runs for v in r.verdicts if v.status == "ok"]
    counts = {p: sum((tally(v.evidence) for v in ok if v.persona == p), Tally()) for p in personas}
    return [
        *(row(p, counts[p]) for p in personas),
        row(PANEL, sum(counts.values(), Tally())),
    ]


def robustness(tools: Sequence[ToolResult], personas: Sequence[str]) -> list[RobustnessRow]:
    """Per variant, per persona and for the panel: mean score delta, mean |delta|, flips."""
    variants = list(dict.fromkeys(v.variant for t in tools for v in t.robustness))
    rows = []
    for name in variants:
        results = [v for t in tools for v in t.robustness if v.variant == name]
        for persona in personas:
            found = [d for v in results for d in v.personas if d.persona == persona]
            deltas = [d.delta for d in found if d.delta is not None]
            rows.append(
                RobustnessRow(
                    variant=name,
                    who=persona,
                    n=len(deltas),
                    mean_delta=metrics.mean(deltas),
                    mean_abs_delta=metrics.mean([abs(d) for d in deltas]),
                    flips=sum(d.flipped for d in found),
                )
            )
        panel_deltas = []
        for t in tools:
            base = metrics.mean([s for s in t.panel_scores if s is not None])
            for v in t.robustness:
                mean_now = metrics.mean([d.score for d in v.personas if d.score is not None])
                if v.variant == name and base is not None and mean_now is not None:
                    panel_deltas.append(round(mean_now - base, 2))
        rows.append(
            RobustnessRow(
                variant=name,
                who=PANEL,
                n=len(results),
                mean_delta=metrics.mean(panel_deltas),
                mean_abs_delta=metrics.mean([abs(d) for d in panel_deltas]),
                flips=sum(v.panel_flipped for v in results),
            )
        )
    return rows


def agreement(tools: Sequence[ToolResult], personas: Sequence[str]) -> list[AgreementRow]:
    """The panel's and each persona's majority decision against the labels."""

    def row(who: str, pairs: Sequence[tuple[str, str]]) -> AgreementRow:
        found = metrics.agreement([a for a, _ in pairs], [b for _, b in pairs])
        return AgreementRow(
            who=who,
            n=found.n,
            accuracy=found.accuracy,
            balanced_accuracy=found.balanced_accuracy,
            kappa=found.kappa,
            confusion=found.confusion,
        )

    labelled = [t for t in tools if t.label is not None]
    rows = [row(PANEL, [(str(t.label), t.panel_majority) for t in labelled if t.panel_majority])]
    for persona in personas:
        pairs = [
            (str(t.label), p.majority)
            for t in labelled
            for p in t.personas
            if p.persona == persona and p.majority is not None
        ]
        rows.append(row(persona, pairs))
    return rows


def best_member(rows: Sequence[AgreementRow]) -> tuple[str | None, bool | None]:
    """The persona with the highest balanced accuracy, and whether the panel beats it."""
    panel = next((r for r in rows if r.who == PANEL), None)
    members = [r for r in rows if r.who != PANEL and r.balanced_accuracy is not None]
    if panel is None or panel.balanced_accuracy is None or not members:
        return None, None
    best = max(members, key=lambda r: (r.balanced_accuracy or 0.0, r.kappa or -1.0))
    return best.who, panel.balanced_accuracy > (best.balanced_accuracy or 0.0)


def persona_names(names: Mapping[str, str], who: str) -> str:
    return "Panel" if who == PANEL else names.get(who, who)
