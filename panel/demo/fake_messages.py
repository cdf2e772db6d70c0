"""The fake Messages endpoint: validation, rate limits, durations and the SSE stream.

A mixin of `FakeAnthropic`, apart from the HTTP server and the other endpoints.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from panel.demo import fake_limits
from panel.demo.fake_content import FakeContent
from panel.demo.fake_files import FakeFiles
from panel.demo.fake_tokens import FakeTokens
from panel.demo.fake_wire import (
    DEFAULT_LIMITS,
    DOCUMENT_MIME_TYPES,
    IMAGE_MIME_TYPES,
    MAX_CACHE_BREAKPOINTS,
    SAMPLING_PARAMS,
    ApiError,
    _Cut,
    _model_class,
    _new_id,
    _Request,
    _request_text,
    _Response,
    _rfc3339,
    _tokens,
)


class FakeMessages(FakeContent, FakeTokens, FakeFiles):
    """The Messages endpoint."""

    if TYPE_CHECKING:

        def _record_message(self, req: _Request, status: int) -> dict[str, Any]: ...

    # -- messages ------------------------------------------------------------------------

    def _messages(self, req: _Request) -> _Response:
        record = self._record_message(req, 200)
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        streaming = False
        try:
            params = req.json()
            self._validate(params)
            # As the API does: admitted on the input it will count (cache reads excluded) and on
            # max_tokens of output, corrected to the real output once the reply is made.
            headers, admitted = self._check_rate_limit(
                params["model"], self._counted_input(params), params["max_tokens"]
            )
            message, on_start = self.respond(params, service_tier="standard")
            with self._lock:
                admitted[1] = message["usage"]["output_tokens"]
            ttft, rest = self._durations(message["usage"])
            with self._lock:
                trickle = self._trickles.popleft() if self._trickles else None
            if params.get("stream"):
                streaming = True
                events = self._timed(self._stream(message, on_start, ttft, rest, record), record)
                if trickle is not None:
                    events = self._trickled(events, trickle)
                return _Response(200, b"", headers, "text/event-stream", events)
            if trickle is not None:  # no content-length: the body ends when the connection does
                body = iter([json.dumps(message).encode()])
                return _Response(200, b"", headers, events=self._trickled(body, trickle))
            time.sleep(ttft + rest)
            on_start()
            record["_ended"] = time.monotonic()
            return _Response(200, message, headers)
        except ApiError as err:
            record["_status"] = err.status
            raise
        finally:
            if not streaming:
                with self._lock:
                    self.in_flight -= 1

    def _durations(self, usage: dict[str, Any]) -> tuple[float, float]:
        """(time to first token, the rest of the call): by `timing` if set, else `latency`."""
        if self.timing is not None:
            return self.timing.split(usage)
        latency = self._rng.uniform(*self.latency)
        return latency / 5, latency * 4 / 5

    def _trickled(self, chunks: Iterator[bytes], interval: float) -> Iterator[bytes]:
        """The chunks a byte at a time, `interval` seconds apart, until the server stops."""
        for chunk in chunks:
            for i in range(len(chunk)):
                yield chunk[i : i + 1]
                if self._stopping.wait(interval):
                    return

    @staticmethod
    def _timed(events: Iterator[bytes], record: dict[str, Any]) -> Iterator[bytes]:
        try:
            yield from events
        finally:
            record["_ended"] = time.monotonic()

    def _stream(
        self,
        message: dict[str, Any],
        on_start: Callable[[], None],
        ttft: float,
        rest: float,
        record: dict[str, Any],
    ) -> Iterator[bytes]:
        """The message as server-sent events. The response has started (and the cache entries it
        wrote become readable) at `message_start`, after `ttft`; the rest follows `rest` later.
        The record gets `_opened`, when `message_start` was sent."""

        def event(kind: str, data: dict[str, Any]) -> bytes:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

        try:
            time.sleep(ttft)
            usage = message["usage"]
            start = {
                **message,
                "content": [],
                "stop_reason": None,
                "usage": {**usage, "output_tokens": 1},
            }
            yield event("message_start", {"message": start})
            record["_opened"] = time.monotonic()
            on_start()
            with self._lock:
                fault = self._stream_faults.popleft() if self._stream_faults else None
            if fault == "cut":
                raise _Cut
            if fault == "overloaded":
                body = {"type": "overloaded_error", "message": "Overloaded"}
                yield f"event: error\ndata: {json.dumps({'type': 'error', 'error': body})}\n\n".encode()
                return
            time.sleep(rest)
            for index, block in enumerate(message["content"]):
                if block["type"] == "thinking":
                    empty = {"type": "thinking", "thinking": "", "signature": ""}
                    deltas = [
                        {"type": "thinking_delta", "thinking": block["thinking"]},
                        {"type": "signature_delta", "signature": block["signature"]},
                    ]
                else:
                    empty = {"type": "text", "text": ""}
                    deltas = [{"type": "text_delta", "text": block["text"]}]
                yield event("content_block_start", {"index": index, "content_block": empty})
                for delta in deltas:
                    yield event("content_block_delta", {"index": index, "delta": delta})
                yield event("content_block_stop", {"index": index})
            final = {"stop_reason": message["stop_reason"], "stop_sequence": None}
            yield event(
                "message_delta",
                {"delta": final, "usage": {"output_tokens": usage["output_tokens"]}},
            )
            yield event("message_stop", {})
        finally:
            with self._lock:
                self.in_flight -= 1

    def _check_rate_limit(
        self, model: str, tokens_in: int, tokens_out: int
    ) -> tuple[dict[str, str], list[Any]]:
        """Sliding-window limits per model class, as the API counts them: requests, input tokens
        (cache reads excluded) and output tokens a minute, with the `anthropic-ratelimit-*`
        headers on every answer, a 429 among them."""
        now = time.monotonic()
        family = _model_class(model)
        limits = self.limits.get(family) or self.limits.get("*") or DEFAULT_LIMITS
        if self.rpm_limit is not None:
            limits = (self.rpm_limit, limits[1], limits[2])
        wanted = {"requests": 1, "input-tokens": tokens_in, "output-tokens": tokens_out}
        headers: dict[str, str] = {}
        refused: float | None = None
        output_entry: list[Any] = [now, tokens_out]
        with self._lock:
            windows = self._windows.setdefault(family, {k: deque() for k in wanted})
            used: dict[str, int] = {}
            for kind, limit in zip(wanted, limits, strict=True):
                window = windows[kind]
                while window and window[0][0] <= now - self.rpm_window:
                    window.popleft()
                used[kind] = sum(entry[1] for entry in window)
                if used[kind] + wanted[kind] > limit and window:
                    wait = window[0][0] + self.rpm_window - now

                    refused = max(refused or 0.0, wait)
            for kind, limit in zip(wanted, limits, strict=True):
                window = windows[kind]
                if refused is None:
                    window.append(output_entry if kind == "output-tokens" else [now, wanted[kind]])
                    used[kind] += wanted[kind]
                full_at = (window[-1][0] + self.rpm_window - now) if window else 0.0
                prefix = f"anthropic-ratelimit-{kind}-"
                headers[prefix + "limit"] = str(int(limit))
                headers[prefix + "remaining"] = str(max(0, int(limit) - used[kind]))
                headers[prefix + "reset"] = _rfc3339(time.time() + max(full_at, 0.0))
        if refused is not None:
            headers["retry-after"] = str(max(1, math.ceil(refused)))
            raise ApiError(429, "Number of requests has exceeded your rate limit", headers=headers)
        return headers, output_entry

    def _counted_input(self, params: dict[str, Any]) -> int:
        """The input tokens a request counts against the limit: all but a readable cached prefix."""
        blocks = self._blocks(params)
        total = running = read = 0
        now = time.monotonic()
        for i, (tokens, _, cache_control) in enumerate(blocks):
            running += tokens
            total += tokens
            if cache_control and running >= self._min_cache(params["model"]):
                key = self._prefix_key(params["model"], blocks[: i + 1])
                with self._lock:
                    entry = self._cache.get(key)
                if entry and entry["readable"] and entry["expires"] >= now:
                    read = running
        return total - read + fake_limits.schema_tokens(params)

    def respond(
        self, params: dict[str, Any], service_tier: str = "standard"
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Validate one messages body and build the Message; the callback opens the cache."""
        self._validate(params)
        text = _request_text(params)
        reply = self._next_script(text)
        if reply is not None and reply.status != 200:
            raise ApiError(reply.status, reply.text or "Scripted error")
        content, stop_reason = self._content(params, text, reply)
        usage, written = self._usage(params)
        out_chars = sum(len(block.get("text") or block.get("thinking") or "") for block in content)
        usage.update(output_tokens=max(1, _tokens(out_chars)), service_tier=service_tier)
        message = {
            "id": _new_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": params["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }
        if stop_reason == "refusal":
            message["stop_details"] = {"type": "refusal", "category": None, "explanation": None}

        def on_start() -> None:
            with self._lock:
                for key in written:
                    if key in self._cache:
                        self._cache[key]["readable"] = True

        return message, on_start

    def _validate(self, params: dict[str, Any]) -> None:
        for name in ("model", "max_tokens", "messages"):
            if name not in params:
                raise ApiError(400, f"{name}: Field required")
        if params["model"] not in self.models:
            raise ApiError(404, f"model: {params['model']}")
        if not isinstance(params["max_tokens"], int) or params["max_tokens"] < 1:
            raise ApiError(400, "max_tokens: must be a positive integer")
        ceiling = fake_limits.max_output_tokens(_model_class(params["model"]))
        if params["max_tokens"] > ceiling:
            raise ApiError(
                400,
                f"max_tokens: {params['max_tokens']} > {ceiling}, which is the maximum allowed "
                f"number of output tokens for {params['model']}",
            )
        if not isinstance(params["messages"], list) or not params["messages"]:
            raise ApiError(400, "messages: at least one message is required")
        for name in SAMPLING_PARAMS:
            if name in params:
                raise ApiError(400, f"{name}: Extra inputs are not permitted")
        if (params.get("tool_choice") or {}).get("type") in ("tool", "any"):
            raise ApiError(
                400,
                "Forced tool use is not supported with this model; "
                "use structured outputs (output_config.format) instead.",
            )
        fmt = (params.get("output_config") or {}).get("format")
        if fmt is not None and (
            fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict)
        ):
            raise ApiError(400, "output_config.format: expected {type: json_schema, schema: {...}}")
        blocks = self._blocks(params)
        if sum(1 for b in blocks if b[2]) > MAX_CACHE_BREAKPOINTS:
            raise ApiError(400, "A maximum of 4 blocks with cache_control may be provided.")
        prompt = sum(b[0] for b in blocks) + fake_limits.schema_tokens(params)
        if prompt > self.context_window:
            raise ApiError(
                400, f"prompt is too long: {prompt} tokens > {self.context_window} maximum"
            )
        for message in params["messages"]:
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                raise ApiError(400, "messages: each message needs role user or assistant")
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                self._validate_block(block, structured=fmt is not None)

    def _validate_block(self, block: dict[str, Any], *, structured: bool) -> None:
        kind, source = block.get("type"), block.get("source") or {}
        if kind not in ("document", "image"):
            return
        if kind == "document" and structured and (block.get("citations") or {}).get("enabled"):
            raise ApiError(400, "Citations cannot be combined with structured outputs.")
        if source.get("type") != "file":
            return
        if not self.files_api:
            raise ApiError(400, "source.type: file is not supported by this server")
        with self._lock:
            meta = self._live_file(source.get("file_id", ""))
            if source.get("file_id") in self._message_dead:
                meta = None
        if meta is None:
            raise ApiError(404, f"File not found: {source.get('file_id')}")
        allowed = DOCUMENT_MIME_TYPES if kind == "document" else IMAGE_MIME_TYPES
        if meta["mime_type"] not in allowed:
            raise ApiError(
                400,
                f"File {meta['id']} has type {meta['mime_type']}; "
                f"a {kind} block accepts {', '.join(allowed)}",
            )
