"""Constructed Run records for tests that need stored history but no network."""

from __future__ import annotations

from panel.judge.decision import decide
from panel.model.run import DocumentRef, Run, ToolInfo
from panel.model.verdict import ToolCard, Usage, VerdictRecord

CARD = {
    "name": "Acme",
    "category": "Developer Tools",
    "tagline": "Reviews from a backlog.",
    "description": "Acme turns a backlog into reviews.",
    "pricing_summary": "Free; teams $20 per seat.",
    "pricing_model": "freemium",
    "best_for": "Small teams.",
}


def doc(source: str, sha: str, name: str | None = None) -> DocumentRef:
    """A file document whose content is identified by `sha` (any short string will do)."""
    return DocumentRef(
        name=name or source,
        title=source,
        mime="text/plain",
        origin="file",
        source=source,
        size_bytes=10,
        sha256=sha,
        file_id=f"file_{sha}",
    )


def verdict(persona: str, score: int | None, rationale: str = "Fine.") -> VerdictRecord:
    """An ok verdict (ship at 60 and above), or a failed one when `score` is None."""
    if score is None:
        return VerdictRecord(persona=persona, persona_version=1, status="failed", error="bad")
    return VerdictRecord(
        persona=persona,
        persona_version=1,
        status="ok",
        score=score,
        decision="ship" if score >= 60 else "skip",
        rationale=rationale,
    )


def make_run(
    run_id: str,
    verdicts: list[VerdictRecord],
    documents: list[DocumentRef] | None = None,
    *,
    slug: str = "acme",
    card: dict[str, str] | None = None,
    created_at: str = "2026-11-25T13:00:00+00:00",
    parent_run_id: str | None = None,
) -> Run:
    return Run(
        run_id=run_id,
        parent_run_id=parent_run_id,
        created_at=created_at,
        model="claude-sonnet-5-5",
        tool=ToolInfo(name=slug.capitalize(), slug=slug, card=ToolCard(**(card or CARD))),
        documents=documents if documents is not None else [doc("acme.md", "a1")],
        verdicts=verdicts,
        panel=decide(verdicts),
        usage=Usage(),
    )
