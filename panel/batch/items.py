"""A batch job's item: one tool of the backlog, its state and what it has cost so far.

Apart from the job tables so that the code that reads items (the live and batch runners, the context
they share) needs only the record, and the mixins of `Jobs` share one row-to-item conversion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from panel.batch.backlog import BacklogRow

ItemState = Literal["pending", "running", "submitted", "done", "failed"]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Item:
    slug: str
    position: int
    name: str
    row: BacklogRow
    state: ItemState
    run_id: str | None
    error: str | None
    attempts: int
    cost_usd: float | None
    tokens: int


def _item(r: Any) -> Item:
    return Item(
        r["slug"],
        r["position"],
        r["name"],
        BacklogRow.from_dict(json.loads(r["row"])),
        r["state"],
        r["run_id"],
        r["error"],
        r["attempts"],
        r["cost_usd"],
        r["tokens"],
    )
