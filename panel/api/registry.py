"""The upload-once registry: SHA-256 of a document's bytes -> file_id, per API endpoint.

The registry is the only place that knows file_ids. A document already uploaded is never uploaded
again: not within a run, not in a later run, not for another tool sharing it, not by another process
on the same data home (an upload is claimed in SQLite first), and not by a retry whose first attempt
reached the server before its answer was lost (the file is looked up by its name, which carries the
content's hash). A file that Messages answers 404 for is uploaded again once and the registry updated.

An Anthropic-compatible server without a Files API (Ollama, vLLM, llama.cpp) gets no uploads: with
`inline` (--inline-documents), or once an upload answers 404 at a custom ANTHROPIC_BASE_URL, every
document travels as text inside the messages and `known` has no file_id for any of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import defaultdict
from collections.abc import Callable, Sequence

from panel.api.client import Client, NoFilesAPI, raw_endpoint
from panel.api.retry import RetryPolicy, policy_from_env, retrying
from panel.errors import APIError, InputError
from panel.sources.documents import Document
from panel.store.caches import claim_owner
from panel.store.connection import redact_endpoint
from panel.store.rekey import rekey_files
from panel.store.sqlite import Store

# How long another process may hold an upload before it is taken over (it died, or hangs).
CLAIM_LEASE_S = 120.0
CLAIM_POLL_S = 0.2
FILE_ID = re.compile(r"file_[A-Za-z0-9]+")


def server_name(doc: Document) -> str:
    """The name a document is uploaded under: its own, with a short content hash before the suffix."""
    stem, dot, suffix = doc.filename.rpartition(".")
    return f"{stem}.{doc.sha256[:12]}{dot}{suffix}"


def check_inlinable(docs: Sequence[Document]) -> None:
    """Only text can travel inline: a PDF needs the Files API (one line, before any call)."""
    for doc in docs:
        if doc.mime != "text/plain":
            raise InputError(
                f"{doc.name}: a PDF cannot be sent inline (--inline-documents, or a server "
                "without a Files API); convert it to text or use an endpoint with a Files API"
            )


def dead_ids(error: str, sent: Sequence[str]) -> set[str]:
    """The file_ids a Messages 404 names; all of those sent when it names none of them."""
    named = set(FILE_ID.findall(error)) & set(sent)
    return named or set(sent)


class Registry:
    """Maps documents to file_ids for one endpoint, uploading each unique content at most once."""

    def __init__(
        self,
        store: Store,
        client: Client,
        endpoint: str,
        policy: RetryPolicy | None = None,
        *,
        inline: bool = False,
        on_wait: Callable[[Document], None] | None = None,
    ) -> None:
        self.store = store
        self.on_wait = on_wait  # told once per upload found claimed by another process
        self.inline = inline  # documents travel as text blocks; nothing is uploaded
        self.client = client
        self.endpoint = endpoint
        self.policy = policy or policy_from_env()
        self.uploads = 0
        self.owner = claim_owner()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        if not inline and endpoint == redact_endpoint(raw := raw_endpoint()) != raw:
            rekey_files(store, raw, endpoint)  # rows an older panel keyed by the token-bearing URL

    def known(self, doc: Document) -> str | None:
        if self.inline:
            return None
        return self.store.file_id(self.endpoint, doc.sha256)

    async def ensure(self, doc: Document) -> tuple[str, bool]:
        """Return (file_id, uploaded_now); concurrent callers of the same content share one upload.
        Inline, or on a server without a Files API: ("", False), and nothing is uploaded."""
        async with self._locks[doc.sha256]:
            if self.inline:
                return "", False
            file_id = self.known(doc)
            if file_id:
                return file_id, False
            try:
                return await self._upload(doc, replacing=None)
            except NoFilesAPI:
                self.inline = True
                return "", False

    async def ensure_all(self, docs: Sequence[Document]) -> list[tuple[str, bool]]:
        if self.inline:
            check_inlinable(docs)
        ensured = list(await asyncio.gather(*(self.ensure(d) for d in docs)))
        if self.inline:
            check_inlinable(docs)
        return ensured

    async def recover(self, docs: Sequence[Document], dead: set[str]) -> list[str]:
        """After Messages answered 404 for `dead` file_ids: upload those documents again.

        A 404 from Messages is the truth (an expired file may still have readable metadata), so
        nothing is asked of the Files API first. Four personas seeing the same 404 cause one
        re-upload: whoever comes second finds the id already replaced. Returns the names uploaded.
        """
        again = []
        for doc in docs:
            async with self._locks[doc.sha256]:
                current = self.known(doc)
                if current is not None and current not in dead:
                    continue
                await self._upload(doc, replacing=current)
                again.append(doc.name)
        return again

    async def _upload(self, doc: Document, *, replacing: str | None) -> tuple[str, bool]:
        """Claim the content, upload it (retried, never duplicated), record it; or adopt the
        file_id another process recorded while we waited for its claim."""
        name = server_name(doc)
        waited = False
        while (
            claim := self.store.claim_upload(self.endpoint, doc.sha256, self.owner, CLAIM_LEASE_S)
        ) == "busy":
            if not waited and self.on_wait is not None:
                self.on_wait(doc)
            waited = True
            await asyncio.sleep(CLAIM_POLL_S)
            found = self.known(doc)
            if found and found != replacing:
                return found, False
        try:
            found = self.known(doc)
            if found and found != replacing:
                return found, False  # another process finished between our checks

            async def attempt(number: int) -> str:
                # An earlier attempt, ours or a dead process's, may have landed unanswered.
                if number > 1 or claim == "taken_over":
                    with contextlib.suppress(APIError):  # no listing: uploading is still right
                        landed = await self.client.find_file(name, len(doc.data))
                        if landed and landed != replacing:
                            return landed
                return await self.client.upload(name, doc.data, doc.mime)

            file_id = await retrying(attempt, self.policy)
            self.uploads += 1
            self.store.remember_file(
                self.endpoint, doc.sha256, file_id, name, doc.mime, len(doc.data)
            )
            return file_id, True
        finally:
            self.store.release_upload(self.endpoint, doc.sha256, self.owner)
