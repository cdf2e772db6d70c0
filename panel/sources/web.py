"""URL sources: a guarded, conditional fetch, then the page's readable text as a Document.

A later run of the same URL sends If-None-Match / If-Modified-Since; when the server says the
content is unchanged, the Document is rebuilt from the local copy, so its SHA-256 (and therefore
its file_id in the registry) is the same and nothing is uploaded.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Protocol

from panel.config import VERSION, Settings
from panel.errors import InputError
from panel.model.run import FetchInfo
from panel.sources.documents import Document, first_heading
from panel.sources.extract import to_document_text
from panel.sources.fetch import FetchError, FetchResult, fetch


class FetchCache(Protocol):
    """What a conditional fetch needs from storage; the store implements it (sources sit below it).

    The extracted bytes live where the fetch record does: files in a data home, rows in the
    shared database (so a 304 rebuilds the document on any machine of the team).
    """

    def last_fetch(self, url: str) -> dict[str, Any] | None: ...

    def remember_fetch(self, info: dict[str, Any], document_json: str) -> None: ...

    def blob(self, sha256: str) -> bytes | None: ...

    def keep_blob(self, sha256: str, data: bytes) -> None: ...


USER_AGENT = f"panel/{VERSION} (+https://github.com/panel-reviews/panel)"


def document_from(result: FetchResult, url: str) -> Document:
    page = to_document_text(result)
    title = f"{page.title or result.final_url} ({result.final_url}, fetched {result.fetched_at})"
    return Document(
        name=_name_for(result.final_url, page.kind),
        title=title,
        mime=page.mime,
        data=page.data,
        origin="url",
        source=url,
        heading=page.title
        or (first_heading(page.data.decode("utf-8", "replace")) if page.kind == "text" else None),
        fetch=FetchInfo(
            url=url,
            final_url=result.final_url,
            status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
            sha256=result.sha256,
            fetched_at=result.fetched_at,
        ),
    )


def _name_for(url: str, kind: str) -> str:
    """A readable file name for the Files API: host and path, made path-safe."""
    stem = re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1]).strip("_")[:80] or "page"
    return f"{stem}.{'pdf' if kind == 'pdf' else 'txt'}"


def load_url(url: str, *, settings: Settings, store: FetchCache | None) -> Document:
    """Fetch `url` (conditionally when we have a copy) and return it as a Document."""
    previous = store.last_fetch(url) if store else None
    cached = _cached_document(store, previous) if store and previous else None
    etag, last_modified = (
        (previous["etag"], previous["last_modified"]) if cached and previous else (None, None)
    )
    try:
        result = fetch(
            url,
            allow_private=settings.allow_private,
            user_agent=USER_AGENT,
            etag=etag,
            last_modified=last_modified,
        )
    except FetchError as exc:
        raise InputError(str(exc)) from exc
    if result.not_modified and cached is not None:
        assert cached.fetch is not None
        return cached.model_copy(
            update={"fetch": cached.fetch.model_copy(update={"not_modified": True})}
        )
    try:
        doc = document_from(result, url)
    except FetchError as exc:
        raise InputError(str(exc)) from exc
    if store is not None:
        write_blob(store, doc)
    return doc


def write_blob(store: FetchCache, doc: Document) -> None:
    """Keep the extracted bytes (before the record that names them) so that an unchanged page
    needs neither a download nor an upload."""
    assert doc.fetch is not None
    store.keep_blob(doc.sha256, doc.data)
    meta = {**doc.model_dump(exclude={"data"}, mode="json"), "sha256": doc.sha256}
    store.remember_fetch(doc.fetch.model_dump(), json.dumps(meta))


def _cached_document(store: FetchCache, previous: dict[str, object]) -> Document | None:
    """The document of the last fetch, or None (then the fetch is unconditional): a copy that is
    missing or not the bytes recorded could only rebuild a different document."""
    try:
        meta = json.loads(str(previous["document"]))
        sha256 = meta.pop("sha256")
    except (KeyError, ValueError):
        return None
    data = store.blob(sha256)
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return Document(**meta, data=data)
