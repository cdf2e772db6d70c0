"""The upload-once registry: SHA-256 of a document's bytes -> file_id, per API endpoint.

The registry is the only place that knows file_ids. A document already uploaded is never uploaded
again (not within a run, not in a later run, not for another tool sharing it); a file the server has
lost is uploaded again once and the registry updated.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from panel.api.client import Client
from panel.sources.documents import Document
from panel.store.sqlite import Store


class Registry:
    """Maps documents to file_ids for one endpoint, uploading each unique content at most once."""

    def __init__(self, store: Store, client: Client, endpoint: str) -> None:
        self.store = store
        self.client = client
        self.endpoint = endpoint
        self.uploads = 0
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._recovery = asyncio.Lock()

    def known(self, doc: Document) -> str | None:
        return self.store.file_id(self.endpoint, doc.sha256)

    async def ensure(self, doc: Document) -> tuple[str, bool]:
        """Return (file_id, uploaded_now); concurrent callers of the same content share one upload."""
        async with self._locks[doc.sha256]:
            file_id = self.known(doc)
            if file_id:
                return file_id, False
            return await self._upload(doc), True

    async def ensure_all(self, docs: Sequence[Document]) -> list[tuple[str, bool]]:
        return list(await asyncio.gather(*(self.ensure(d) for d in docs)))

    async def recover(self, docs: Sequence[Document]) -> list[str]:
        """After a 404 on a referenced file: re-upload those of `docs` the server no longer has.

        Serialised, so four personas hitting the same lost file cause one re-upload, not four.
        Returns the names of the documents uploaded again.
        """
        again = []
        async with self._recovery:
            for doc in docs:
                file_id = self.known(doc)
                if file_id and await self.client.file_exists(file_id):
                    continue
                async with self._locks[doc.sha256]:
                    await self._upload(doc)
                again.append(doc.name)
        return again

    async def _upload(self, doc: Document) -> str:
        file_id = await self.client.upload(doc.filename, doc.data, doc.mime)
        self.uploads += 1
        self.store.remember_file(
            self.endpoint, doc.sha256, file_id, doc.filename, doc.mime, len(doc.data)
        )
        return file_id
