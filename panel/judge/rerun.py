"""A rerun's inputs: the previous run's sources read again, plus new ones, minus dropped ones.

Files are read again and URLs fetched again (conditionally), so a document whose bytes did not
change has the same SHA-256 and the registry reuses its file_id: nothing unchanged is uploaded.
Pasted descriptions and stdin come back from the text the previous record kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from panel.config import Settings
from panel.errors import InputError
from panel.judge.review import Request, load_documents
from panel.model.run import DocumentRef, Run
from panel.sources.documents import Document, first_heading, is_url, load_file
from panel.store.sqlite import Store


@dataclass(frozen=True)
class Changes:
    """What the user changed for this rerun."""

    sources: Sequence[str] = ()
    drop: Sequence[str] = ()
    description: str | None = None  # replaces the previous description


def previous_run(store: Store, tool: str) -> Run:
    """The latest run of TOOL; a tool never reviewed is an error pointing at `panel review`."""
    slug = store.slug_of(tool)
    latest = store.latest_run_id(slug) if slug else None
    if latest is None:
        raise InputError(f"no runs of {tool!r} to rerun; review it first with `panel review`")
    return store.load_run(latest)


def names(spec: str, ref: DocumentRef) -> bool:
    """Whether a SOURCE the user typed names this previous document."""
    if spec == ref.source:
        return True
    if ref.origin == "description":
        return spec in ("description", "--description")
    if ref.origin == "stdin":
        return spec in ("-", "stdin")
    if ref.origin == "file" and not is_url(spec):
        return Path(spec).resolve() == Path(ref.source).resolve()
    return False


def kept(previous: Run, changes: Changes) -> list[DocumentRef]:
    """The previous documents that stay: not dropped, not replaced by a new description or stdin."""
    for spec in changes.drop:
        if not any(names(spec, ref) for ref in previous.documents):
            sources = ", ".join(ref.source for ref in previous.documents)
            raise InputError(
                f"--drop {spec}: run {previous.run_id} has no such source (it has: {sources})"
            )
    return [
        ref
        for ref in previous.documents
        if not any(names(spec, ref) for spec in changes.drop)
        and not (ref.origin == "description" and changes.description is not None)
        and not (ref.origin == "stdin" and "-" in changes.sources)
    ]


def reload(ref: DocumentRef, run_id: str, settings: Settings, store: Store) -> Document:
    """One previous document as it is now; a source that cannot be read says how to leave it out."""
    try:
        return _reload(ref, settings, store)
    except InputError as exc:
        raise InputError(
            f"{exc} (a source of run {run_id}; leave it out with --drop {ref.source})"
        ) from exc


def _reload(ref: DocumentRef, settings: Settings, store: Store) -> Document:
    if ref.origin == "url":
        from panel.sources.web import load_url

        return load_url(ref.source, settings=settings, store=store)
    if ref.origin == "file":
        return load_file(Path(ref.source))
    if ref.text is None:
        raise InputError(f"{ref.source}: the record kept no text to send again")
    return Document(
        name=ref.name,
        title=ref.title,
        mime="text/plain",
        data=ref.text.encode("utf-8"),
        origin=ref.origin,
        source=ref.source,
        heading=first_heading(ref.text),
    )


def rerun_documents(
    previous: Run, changes: Changes, settings: Settings, store: Store
) -> list[Document]:
    """The previous documents as they are now, in order, then the new ones; each content once."""
    refs = kept(previous, changes)
    docs = [reload(ref, previous.run_id, settings, store) for ref in refs]
    new = [s for s in changes.sources if s == "-" or not any(names(s, ref) for ref in refs)]
    if new or changes.description is not None:
        docs += load_documents(
            Request(sources=new, description=changes.description), settings, store
        )
    if not docs:
        raise InputError(
            "nothing left to review: every source was dropped; add a file, a URL or --description"
        )
    unique: dict[str, Document] = {}
    for doc in docs:
        unique.setdefault(doc.sha256, doc)
    return list(unique.values())


def rerun_request(previous: Run) -> Request:
    """A request under the previous run's name and slug, recording it as the parent."""
    tool = previous.tool
    return Request(
        name=tool.name if tool.name_given or tool.reviewed_as is None else None,
        reviewed_as=tool.reviewed_as,
        slug=tool.slug,
        parent_run_id=previous.run_id,
    )
