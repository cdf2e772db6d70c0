"""A Message Batches results download as panel keeps it: the results read, the lines that could
not be read, and the one-line error of a download that stopped partway.

A results file is read line by line and every line read is kept, so a download that stalls or is
cut loses nothing already received: the caller stores `partial` and a later run downloads again.
A line that is not a result (truncated, garbled) names no request; the caller redoes whichever
requests the whole file left without a result.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from panel.api.replies import text_of, usage_of
from panel.errors import APIError
from panel.model.verdict import Usage


@dataclass
class Download:
    """What one whole results file held: its results, and how many lines were unreadable."""

    results: list[Any] = field(default_factory=list)
    unreadable: int = 0


class ResultsIncomplete(APIError):
    """The download stopped before the file's end (a stall past the read timeout, a cut
    connection). `partial` holds the results read; the batch stays open for the next run."""

    exit_code = 1  # the work ran and is kept, but the job did not complete

    def __init__(
        self, batch_id: str, partial: Sequence[Any], expected: int | None, reason: str
    ) -> None:
        self.batch_id = batch_id
        self.partial = list(partial)
        of = f" of {expected}" if expected else ""
        super().__init__(
            f"batch {batch_id}: the results download stalled after {len(self.partial)}{of} "
            f"results ({reason}); those are kept: run the same command again to resume "
            "(`panel jobs` shows the job)"
        )


def result_line(raw: str) -> dict[str, Any]:
    """One JSONL line as a result (`custom_id` and a typed `result`); ValueError when the line
    is not one (truncated, garbled)."""
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("custom_id"), str):
        raise ValueError("not a batch result")
    result = data.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("type"), str):
        raise ValueError("not a batch result")
    return data


@dataclass
class BatchResult:
    """One request's outcome in an ended Message Batch, keyed by its custom_id."""

    custom_id: str
    kind: str  # succeeded | errored | canceled | expired
    text: str = ""
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    error_type: str | None = None
    error: str | None = None


def batch_result(line: dict[str, Any]) -> BatchResult:
    """A results line (JSON, as the file has it) as the outcome of its request."""
    result = line["result"]
    kind = result["type"]
    if kind == "succeeded":
        message = result.get("message") or {}
        return BatchResult(
            line["custom_id"],
            "succeeded",
            text_of(message.get("content") or []),
            message.get("stop_reason"),
            usage_of(message.get("usage")),
        )
    if kind == "errored":
        error = (result.get("error") or {}).get("error") or {}
        return BatchResult(
            line["custom_id"],
            "errored",
            error_type=error.get("type") or "api_error",
            error=error.get("message") or "errored in the batch",
        )
    return BatchResult(line["custom_id"], kind, error=f"{kind} in the batch")
