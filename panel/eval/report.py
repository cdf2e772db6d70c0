"""The eval report: what `panel eval` prints, writes as report.json and renders as Markdown/HTML.

Versioned like every record panel writes.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

REPORT_VERSION = 1


class PersonaSamples(BaseModel):
    """One persona's K answers on one tool."""

    persona: str
    scores: list[int]
    decisions: list[str]
    spread: float | None = Field(description="Population standard deviation of the scores.")
    majority: str | None = Field(description="Majority decision; ties go by the mean score.")
    agree_share: float | None = Field(description="Share of answers agreeing with the majority.")
    failed: int = 0


class PersonaDelta(BaseModel):
    persona: str
    baseline: float | None = Field(description="Mean score over the K plain runs.")
    score: int | None
    delta: float | None
    flipped: bool


class VariantResult(BaseModel):
    """One robustness variant of one tool against its plain runs."""

    variant: str
    run_id: str
    panel_decision: str
    panel_flipped: bool
    personas: list[PersonaDelta]


class ToolResult(BaseModel):
    name: str
    slug: str
    label: str | None = None
    outcome: str | None = None
    reason: str | None = None
    documents: int
    run_ids: list[str]
    personas: list[PersonaSamples]
    panel_decisions: list[str]
    panel_scores: list[float | None]
    panel_majority: str | None
    robustness: list[VariantResult] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class ConsistencyRow(BaseModel):
    """K runs of the same sources, averaged over the suite's tools."""

    who: str  # a persona id, or "panel"
    mean_spread: float | None
    max_spread: float | None
    agree_share: float | None
    flip_rate: float | None = Field(description="Chance two runs of one tool disagree.")


class OverlapRow(BaseModel):
    """Lexical overlap (Jaccard over word 3-grams) of two personas' paragraphs, same run."""

    a: str
    b: str
    mean: float | None
    max: float | None
    cosine: float | None = None
    flagged: bool


class RobustnessRow(BaseModel):
    variant: str
    who: str  # a persona id, or "panel"
    n: int
    mean_delta: float | None
    mean_abs_delta: float | None
    flips: int


class AgreementRow(BaseModel):
    who: str  # "panel" or a persona id
    n: int
    accuracy: float | None
    balanced_accuracy: float | None
    kappa: float | None
    confusion: dict[str, dict[str, int]]


class EvidenceRow(BaseModel):
    """The quotes a persona (or the whole panel) gave, and how many the program found in the sources."""

    who: str  # a persona id, or "panel"
    quotes: int
    verified: int
    not_found: int
    unchecked: int = Field(description="Quotes naming a PDF, whose text is not checked.")
    verified_share: float | None = Field(
        description="Verified over checked quotes (unchecked left out); None with none checked."
    )


class Cost(BaseModel):
    reviews: int
    estimated_usd: float | None
    spent_usd: float | None


class EvalReport(BaseModel):
    schema_version: int = REPORT_VERSION
    suite: str
    model: str
    samples: int
    offline: bool
    personas: dict[str, str] = Field(description="Persona id -> name, in panel order.")
    tools: list[ToolResult]
    consistency: list[ConsistencyRow]
    independence: list[OverlapRow]
    echo_threshold: float
    embeddings: str = Field(description="Whether cosine similarity was measured, and why not.")
    robustness: list[RobustnessRow]
    agreement: list[AgreementRow]
    # Reports written before verdicts carried quotes have none.
    evidence: list[EvidenceRow] = Field(default_factory=list)
    best_member: str | None = None
    panel_beats_best: bool | None = None
    cost: Cost
    notes: list[str] = Field(default_factory=list)
