"""Batch requests that failed because a file they referenced is gone (expired or deleted since
submission): the documents are uploaded again once, before the requests are redone, so that no
redo pays a round trip to learn what the batch result already said."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from panel.api.registry import FILE_ID, Registry
from panel.sources.documents import Document

LOST_FILE = "not_found_error"


def lost_file_ids(rows: Iterable[Any]) -> set[str]:
    """The file_ids that a tool's errored requests name as not found."""
    dead: set[str] = set()
    for row in rows:
        if row["state"] != "retry" or not row["result"]:
            continue
        stored = json.loads(row["result"])
        if stored.get("error_type") == LOST_FILE:
            dead |= set(FILE_ID.findall(stored.get("error") or ""))
    return dead


async def recover_lost(
    registry: Registry, docs: Sequence[Document], rows: Iterable[Any]
) -> list[str]:
    """Upload again the documents whose current file_id a request found gone; returns their
    names. An id already replaced (another tool's redo got there first) is not uploaded twice,
    and a 404 that names no id is left to the redo, which knows the ids it sent."""
    current = {fid for doc in docs if (fid := registry.known(doc))}
    dead = lost_file_ids(rows) & current
    return await registry.recover(docs, dead) if dead else []
