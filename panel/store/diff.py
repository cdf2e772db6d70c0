"""What moved between two runs of one tool: pure functions over stored Runs, no API call.

Documents are matched by `source` (the path, URL, `--description` or `-` they came from) and
compared by SHA-256; personas by id; the tool card field by field, pricing first.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from panel.errors import InputError
from panel.model.run import DocumentRef, Run
from panel.model.verdict import Decision, VerdictRecord

DocStatus = Literal["added", "removed", "changed", "unchanged"]
# Pricing first: it is the card change a reader most wants to see.
CARD_FIELDS = (
    "pricing_summary",
    "pricing_model",
    "name",
    "category",
    "tagline",
    "best_for",
    "description",
)


class DocumentChange(BaseModel):
    """One source across the two runs."""

    source: str
    name: str
    status: DocStatus
    old_sha256: str | None = None
    new_sha256: str | None = None

    @property
    def label(self) -> str:
        """How a person names it: a URL, `--description`, or a file's name (not its full path)."""
        return self.name if self.source.startswith("/") else self.source


class FieldChange(BaseModel):
    """One tool card field whose value differs."""

    field: str
    old: str | None
    new: str | None


class PersonaChange(BaseModel):
    """One persona's movement; `None` scores are failed (or absent) verdicts, never zeros."""

    persona: str
    old_score: int | None
    new_score: int | None
    delta: int | None
    old_decision: Decision | None
    new_decision: Decision | None
    flipped: bool
    new_sentences: list[str]


class RunDiff(BaseModel):
    """Everything that changed from `old_run_id` to `new_run_id`."""

    slug: str
    old_run_id: str
    new_run_id: str
    old_label: str
    new_label: str
    old_mean: float | None
    new_mean: float | None
    documents: list[DocumentChange]
    card: list[FieldChange]
    personas: list[PersonaChange]

    def documents_with(self, status: DocStatus) -> list[DocumentChange]:
        return [d for d in self.documents if d.status == status]


def sentences(text: str | None) -> list[str]:
    """A simple sentence split: after . ! or ? followed by whitespace; whitespace normalised."""
    if not text:
        return []
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return [p for p in parts if p]


def new_sentences(old: str | None, new: str | None) -> list[str]:
    """Sentences of `new` that `old` does not contain, in their order."""
    seen = set(sentences(old))
    return [s for s in sentences(new) if s not in seen]


def document_changes(old: list[DocumentRef], new: list[DocumentRef]) -> list[DocumentChange]:
    """New run's documents in order (added, changed or unchanged), then the removed ones."""
    before = {d.source: d for d in old}
    after = {d.source: d for d in new}
    changes = []
    for src, doc in after.items():
        prev = before.get(src)
        status: DocStatus = (
            "added" if prev is None else "unchanged" if prev.sha256 == doc.sha256 else "changed"
        )
        changes.append(
            DocumentChange(
                source=src,
                name=doc.name,
                status=status,
                old_sha256=prev.sha256 if prev else None,
                new_sha256=doc.sha256,
            )
        )
    changes += [
        DocumentChange(source=src, name=doc.name, status="removed", old_sha256=doc.sha256)
        for src, doc in before.items()
        if src not in after
    ]
    return changes


def card_changes(old: Run, new: Run) -> list[FieldChange]:
    """Card fields whose values differ; a missing card counts as every field empty."""
    before = old.tool.card.model_dump() if old.tool.card else {}
    after = new.tool.card.model_dump() if new.tool.card else {}
    return [
        FieldChange(field=f, old=before.get(f), new=after.get(f))
        for f in CARD_FIELDS
        if before.get(f) != after.get(f)
    ]


def persona_change(pid: str, old: VerdictRecord | None, new: VerdictRecord | None) -> PersonaChange:
    old_score = old.score if old else None
    new_score = new.score if new else None
    old_decision = old.decision if old else None
    new_decision = new.decision if new else None
    return PersonaChange(
        persona=pid,
        old_score=old_score,
        new_score=new_score,
        delta=None if old_score is None or new_score is None else new_score - old_score,
        old_decision=old_decision,
        new_decision=new_decision,
        flipped=old_decision is not None
        and new_decision is not None
        and old_decision != new_decision,
        new_sentences=new_sentences(old.rationale if old else None, new.rationale if new else None),
    )


def persona_changes(old: Run, new: Run) -> list[PersonaChange]:
    """The new run's personas in order, then any persona only the old run had."""
    before = {v.persona: v for v in old.verdicts}
    after = {v.persona: v for v in new.verdicts}
    order = list(after) + [p for p in before if p not in after]
    return [persona_change(p, before.get(p), after.get(p)) for p in order]


def diff_runs(old: Run, new: Run) -> RunDiff:
    """What changed from `old` to `new`; runs of different tools are refused."""
    if old.tool.slug != new.tool.slug:
        raise InputError(
            f"cannot diff runs of different tools: {old.run_id} is {old.tool.slug!r}, "
            f"{new.run_id} is {new.tool.slug!r}; to compare two tools use "
            f"`panel compare {old.tool.slug} {new.tool.slug}`"
        )
    return RunDiff(
        slug=new.tool.slug,
        old_run_id=old.run_id,
        new_run_id=new.run_id,
        old_label=old.panel.label,
        new_label=new.panel.label,
        old_mean=old.panel.mean_score,
        new_mean=new.panel.mean_score,
        documents=document_changes(old.documents, new.documents),
        card=card_changes(old, new),
        personas=persona_changes(old, new),
    )
