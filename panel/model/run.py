"""The Run record: the product's memory. Pages, diffs and histories are computed from these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from panel.model.decision import PanelDecision
from panel.model.verdict import ToolCard, Usage, VerdictRecord

SCHEMA_VERSION = 1

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
    usage: Usage
    cost_usd: float | None = None
    prompt_versions: dict[str, int] = Field(default_factory=dict)
    prompt_hashes: dict[str, str] = Field(default_factory=dict)
    timings: Timings = Field(default_factory=Timings)
    job_id: str | None = None
