"""The Run record: the product's memory. Pages, diffs and histories are computed from these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from panel.model.decision import PanelDecision
from panel.model.verdict import ToolCard, Usage, VerdictRecord

# 2: verdicts carry `evidence` (quotes checked against the documents); 1 still loads without it.
SCHEMA_VERSION = 2

Origin = Literal["file", "stdin", "description", "url"]


class FetchInfo(BaseModel):
    """How a URL source was fetched: what a later run needs for a conditional request."""

    url: str
    final_url: str
    status: int
    etag: str | None = None
    last_modified: str | None = None
    sha256: str
    fetched_at: str
    not_modified: bool = False


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class DocumentRef(BaseModel):
    """A document as a run used it: enough to find it again, never its bytes."""

    name: str
    title: str
    mime: str
    origin: Origin
    source: str
    size_bytes: int
    sha256: str
    file_id: str | None
    uploaded_now: bool = False
    fetch: FetchInfo | None = None
    text: str | None = (
        None  # kept for pasted descriptions and stdin, so a rerun can send them again
    )


class ToolInfo(BaseModel):
    """The tool's display name and key, and the name the personas were told (kept for reruns)."""

    name: str
    slug: str
    reviewed_as: str | None = None
    name_given: bool = False  # --name was given: it wins over the card's name, in reruns too
    card: ToolCard | None = None
    card_error: str | None = None


class Timings(BaseModel):
    sources_s: float = 0.0
    uploads_s: float = 0.0
    panel_s: float = 0.0
    total_s: float = 0.0


class ModelUsage(Usage):
    """One model's share of a run: its tokens by kind and their cost (None: price unknown)."""

    cost_usd: float | None = None


class RunUsage(Usage):
    """A run's tokens by kind over all its calls, what they cost, and the same per model (the
    personas' and the card's). Records written before costs were split have no `models`."""

    cost_usd: float | None = None
    models: dict[str, ModelUsage] = Field(default_factory=dict)

    @classmethod
    def of(cls, models: dict[str, ModelUsage]) -> RunUsage:
        """The run's usage from its per-model shares; the cost is unknown if any share's is."""
        total = sum((Usage(**m.model_dump(exclude={"cost_usd"})) for m in models.values()), Usage())
        costs = [m.cost_usd for m in models.values()]
        known = None if None in costs else round(sum(c or 0.0 for c in costs), 6)
        return cls(**total.model_dump(), cost_usd=known, models=models)


class Run(BaseModel):
    """One review of one tool; immutable once written."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    parent_run_id: str | None = None
    created_at: str = Field(default_factory=utc_now)
    status: Literal["complete", "incomplete"] = "complete"
    model: str
    tool: ToolInfo
    documents: list[DocumentRef]
    verdicts: list[VerdictRecord]
    panel: PanelDecision
    usage: RunUsage
    cost_usd: float | None = None  # the same as usage.cost_usd, where records before it kept it
    prompt_versions: dict[str, int] = Field(default_factory=dict)
    prompt_hashes: dict[str, str] = Field(default_factory=dict)
    timings: Timings = Field(default_factory=Timings)
    job_id: str | None = None

    @field_validator("usage", mode="before")
    @classmethod
    def _plain_usage(cls, value: object) -> object:
        """A plain Usage (older callers, tests) becomes a RunUsage without costs."""
        if isinstance(value, Usage) and not isinstance(value, RunUsage):
            return value.model_dump()
        return value

    @model_validator(mode="after")
    def _one_cost(self) -> Run:
        """`cost_usd` and `usage.cost_usd` agree, whichever of them a record carried."""
        if self.usage.cost_usd is None:
            self.usage.cost_usd = self.cost_usd
        elif self.cost_usd is None:
            self.cost_usd = self.usage.cost_usd
        return self
