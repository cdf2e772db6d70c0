"""The real API's limits, as data and pure functions, for the fake in `fake_api`.

Why a module of its own: the fake is only worth its tests when it is as strict as the API
(ANTHROPIC.md), and these rules (per-model ceilings, retry hints, paging, token counting that is
not the billing formula, a batch's progress over time) are easier to read and test apart from the
HTTP plumbing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

# Error type per status, as the API names them (the SDK maps 402 to its billing error and 504 to
# a timeout; 408 and 409 are retried).
EXTRA_ERROR_TYPES = {
    402: "billing_error",
    408: "timeout_error",
    409: "api_error",
    504: "timeout_error",
}
# Minimum cacheable prefix per model class: below it caching silently does nothing.
MIN_CACHE_TOKENS = {"opus": 4096, "sonnet": 1024, "haiku": 4096}
# The largest max_tokens each model class accepts; all have a 1M-token context window.
MAX_OUTPUT_TOKENS = {"opus": 128_000, "sonnet": 64_000, "haiku": 64_000}
CONTEXT_WINDOW = 1_000_000
MAX_REQUEST_BYTES = 32 * 1024 * 1024  # Messages; the fake's knob lets a test trigger it cheaply
MAX_BATCH_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES = 500 * 1024 * 1024
FILES_PAGE_MAX = 1000
BATCH_TTL = 86400.0  # seconds a batch may run before its unfinished requests expire


def should_retry(status: int) -> bool:
    """The `x-should-retry` hint: transient failures yes, the caller's mistakes no."""
    return status in (408, 409, 429) or status >= 500


def min_cache_tokens(model_class: str) -> int:
    return MIN_CACHE_TOKENS.get(model_class, 1024)


def max_output_tokens(model_class: str) -> int:
    return MAX_OUTPUT_TOKENS.get(model_class, 64_000)


def schema_tokens(params: dict[str, Any]) -> int:
    """Input tokens an output schema adds (the API turns it into instructions the model reads)."""
    fmt = (params.get("output_config") or {}).get("format")
    if not isinstance(fmt, dict):
        return 0
    return math.ceil(len(json.dumps(fmt.get("schema") or {}, sort_keys=True)) / 4)


def counted_tokens(billed: list[int], params: dict[str, Any]) -> int:
    """What `count_tokens` answers for a request billed as `billed` (tokens per block): an
    estimate, as the real endpoint's is, a few percent above the bill plus framing per block and
    the output schema, so a caller cannot take it for the bill itself."""
    framing = 3 * len(billed) + 7
    return math.ceil(sum(billed) * 1.03) + framing + schema_tokens(params)


def page(
    items: list[dict[str, Any]], query: dict[str, list[str]], default_limit: int = 20
) -> dict[str, Any]:
    """One page of a newest-first list, as the API pages it: `limit` (1..1000), then a `page`
    cursor (the SDK follows `next_page`; anthropic 2.14's `files.list` pages this way) or
    `after_id` (older than that id) / `before_id` (newer), with `has_more`, `first_id` and
    `last_id`; `ids` picks files and is always one page. A bad `limit` is a ValueError (the
    caller answers 400)."""
    try:
        limit = int(query.get("limit", [str(default_limit)])[0])
    except ValueError as exc:
        raise ValueError("limit: must be an integer") from exc
    if not 1 <= limit <= FILES_PAGE_MAX:
        raise ValueError(f"limit: must be between 1 and {FILES_PAGE_MAX}")
    if "ids" in query or "ids[]" in query:
        wanted = set(query.get("ids", []) + query.get("ids[]", []))
        chunk = [item for item in items if item["id"] in wanted]
        return _page_body(chunk, more=False)
    ids = [item["id"] for item in items]
    cursor = query.get("page", [""])[0].removeprefix("page_") or None
    after, before = cursor or query.get("after_id", [None])[0], query.get("before_id", [None])[0]
    if after is not None:
        start = ids.index(after) + 1 if after in ids else len(ids)
        chunk, more = items[start : start + limit], start + limit < len(items)
    elif before is not None:
        end = ids.index(before) if before in ids else 0
        chunk, more = items[max(0, end - limit) : end], end - limit > 0
    else:
        chunk, more = items[:limit], limit < len(items)
    return _page_body(chunk, more=more)


def _page_body(chunk: list[dict[str, Any]], *, more: bool) -> dict[str, Any]:
    last = chunk[-1]["id"] if chunk else None
    return {
        "data": chunk,
        "has_more": more,
        "first_id": chunk[0]["id"] if chunk else None,
        "last_id": last,
        "next_page": f"page_{last}" if more and last else None,
    }


def finished_by(index: int, total: int, started: float, ends: float, now: float) -> bool:
    """Whether the `index`-th of `total` requests of a batch is done at `now`: they finish one
    after another between `started` and `ends`, not all at once."""
    if now >= ends or total <= 0:
        return True
    share = (now - started) / max(ends - started, 1e-9)
    return index < math.floor(share * total)


def token_headers(headers: dict[str, str]) -> dict[str, str]:
    """`anthropic-ratelimit-tokens-*`: the more restrictive of the input and output limits, as
    the API reports it, from the per-kind headers already set."""
    kinds = ("input-tokens", "output-tokens")
    try:
        remaining = {k: int(headers[f"anthropic-ratelimit-{k}-remaining"]) for k in kinds}
    except (KeyError, ValueError):
        return {}
    tight = min(kinds, key=lambda k: remaining[k])
    return {
        f"anthropic-ratelimit-tokens-{part}": headers[f"anthropic-ratelimit-{tight}-{part}"]
        for part in ("limit", "remaining", "reset")
    }


def progress(
    batch: dict[str, Any], now: float, run: Callable[[dict[str, Any]], dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """Run (`run`) the batch's requests whose turn has come by `now` and move its
    `request_counts`; the results once it ends (all done, canceled: the rest `canceled`, or 24 h
    on: the rest `expired`), else None. The batch keeps `_order`, `_done`, `_started`, `_ends`,
    `_expires` and `_cancel_at`."""
    cutoff = min(now, batch["_expires"], batch["_cancel_at"] or math.inf)
    order, done = batch["_order"], batch["_done"]
    for i, item in enumerate(order):
        if item["custom_id"] in done:
            continue
        if not finished_by(i, len(order), batch["_started"], batch["_ends"], cutoff):
            break
        done[item["custom_id"]] = run(item)
    expired = now >= batch["_expires"]
    if len(done) < len(order) and not expired and now < batch["_ends"]:
        counts = dict.fromkeys(("succeeded", "errored", "canceled", "expired"), 0)
        for result in done.values():
            counts[result["type"]] += 1
        batch["request_counts"] = {"processing": len(order) - len(done), **counts}
        return None
    rest = {"type": "expired"} if expired else {"type": "canceled"}
    return [
        {"custom_id": item["custom_id"], "result": done.get(item["custom_id"], rest)}
        for item in order
    ]
