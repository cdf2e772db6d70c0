"""An in-process fake of the Anthropic HTTP API, for tests that drive the real SDK.

Why a server and not a mock transport: end-to-end tests run the `panel` command in a
subprocess, which can only be pointed at a URL (`ANTHROPIC_BASE_URL`). The fake mimics the
parts of the API that `panel` relies on (files, messages with structured output, prompt
caching, rate limits, faults, message batches) closely enough that the SDK parses every
reply, and records what it saw so tests can assert on it.

    with FakeAnthropic(latency=(0.01, 0.03)) as fake:
        fake.script("persona: skeptic", Reply.verdict(30, "skip"))
        client = anthropic.Anthropic(api_key="test-key", base_url=fake.url)
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from panel.demo import fake_limits
from panel.demo.fake_batches import FakeBatches
from panel.demo.fake_state import Reply, Timing
from panel.demo.fake_text import PERSONA_IN_TEXT, SUBJECT, pricing_model, tagline
from panel.demo.fake_wire import (
    DEFAULT_LIMITS,
    ApiError,
    _Cut,
    _error_body,
    _model_class,
    _new_id,
    _Request,
    _request_text,
    _Response,
    _rfc3339,
)

# What tests, benchmarks and `panel demo` import from here, wherever it now lives.
__all__ = [
    "PERSONA_IN_TEXT",
    "SUBJECT",
    "FakeAnthropic",
    "Reply",
    "Timing",
    "_request_text",
    "pricing_model",
    "tagline",
]


class FakeAnthropic(FakeBatches):
    """The fake server plus the state tests script and inspect (all access under one lock)."""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        latency: tuple[float, float] = (0.0, 0.0),
        timing: Timing | None = None,
        rpm_limit: int | None = None,
        min_cache_tokens: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(
            api_key=api_key,
            latency=latency,
            timing=timing,
            rpm_limit=rpm_limit,
            min_cache_tokens=min_cache_tokens,
            seed=seed,
        )
        self._routes: list[tuple[str, re.Pattern[str], Callable[[_Request], _Response]]] = [
            (m, re.compile(p + "$"), h)
            for m, p, h in (
                ("POST", "/v1/messages", self._messages),
                ("POST", "/v1/messages/count_tokens", self._count_tokens),
                ("POST", "/v1/messages/batches", self._batch_create),
                ("GET", "/v1/messages/batches", self._batch_list),
                ("GET", "/v1/messages/batches/(?P<id>[^/]+)", self._batch_get),
                ("DELETE", "/v1/messages/batches/(?P<id>[^/]+)", self._batch_delete),
                ("POST", "/v1/messages/batches/(?P<id>[^/]+)/cancel", self._batch_cancel),
                ("GET", "/v1/messages/batches/(?P<id>[^/]+)/results", self._batch_results),
                ("POST", "/v1/files", self._file_upload),
                ("GET", "/v1/files", self._file_list),
                ("GET", "/v1/files/(?P<id>[^/]+)", self._file_get),
                ("DELETE", "/v1/files/(?P<id>[^/]+)", self._file_delete),
                ("GET", "/v1/files/(?P<id>[^/]+)/content", self._file_content),
            )
        ]

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        """Listen on a free 127.0.0.1 port in a daemon thread."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, kwargs={"poll_interval": 0.05}
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._uploads_open.set()  # a held upload ends with the server
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP plumbing -------------------------------------------------------------------

    def handle(self, req: _Request) -> _Response:
        """Authenticate, apply injected faults, route; every failure becomes error JSON."""
        request_id = _new_id("req")
        try:
            self._check_auth(req)
            handler = self._route(req)
            self._check_size(req)
            self._take_fault(req)
            resp = handler(req)
        except ApiError as err:
            resp = _Response(err.status, _error_body(err, request_id), err.headers)
        resp.headers["request-id"] = request_id
        self._add_limit_headers(req, resp)
        with self._lock:
            self.requests.append((req.method, req.path, resp.status))
            if resp.status == 429:
                self.count_429 += 1
        return resp

    def _check_size(self, req: _Request) -> None:
        """413 `request_too_large` for a body over the endpoint's limit, before it is read."""
        limit = {
            "/v1/messages": self.max_request_bytes,
            "/v1/messages/count_tokens": self.max_request_bytes,
            "/v1/messages/batches": fake_limits.MAX_BATCH_BYTES,
            "/v1/files": fake_limits.MAX_FILE_BYTES,
        }.get(req.path)
        if limit is not None and req.method == "POST" and len(req.body) > limit:
            raise ApiError(413, f"Request exceeds the maximum allowed number of bytes ({limit})")

    def _add_limit_headers(self, req: _Request, resp: _Response) -> None:
        """What the API puts on every reply, errors included: `x-should-retry` (on errors), the
        `anthropic-ratelimit-*` headers (a snapshot where the call used no quota) and, on a 429,
        `retry-after`."""
        if resp.status >= 400:  # not on a 200: a stream's later `error` event is still retried
            hint = str(fake_limits.should_retry(resp.status)).lower()
            resp.headers.setdefault("x-should-retry", hint)
        if "anthropic-ratelimit-requests-limit" not in resp.headers:
            model = ""
            if req.path.startswith("/v1/messages") and req.method == "POST":
                with contextlib.suppress(ApiError):
                    model = str(req.json().get("model", ""))
            resp.headers.update(self._rate_snapshot(model))
        resp.headers.update(fake_limits.token_headers(resp.headers))
        if resp.status == 429:
            resp.headers.setdefault("retry-after", "1")

    def _rate_snapshot(self, model: str) -> dict[str, str]:
        """The rate-limit headers as they stand for the model's class, taking nothing."""
        now = time.monotonic()
        family = _model_class(model) if model else "sonnet"
        limits = self.limits.get(family) or self.limits.get("*") or DEFAULT_LIMITS
        if self.rpm_limit is not None:
            limits = (self.rpm_limit, limits[1], limits[2])
        headers: dict[str, str] = {}
        with self._lock:
            windows = self._windows.get(family, {})
            for kind, limit in zip(
                ("requests", "input-tokens", "output-tokens"), limits, strict=True
            ):
                live = [e for e in windows.get(kind, ()) if e[0] > now - self.rpm_window]
                full_at = (live[-1][0] + self.rpm_window - now) if live else 0.0
                prefix = f"anthropic-ratelimit-{kind}-"
                headers[prefix + "limit"] = str(int(limit))
                headers[prefix + "remaining"] = str(max(0, int(limit) - sum(e[1] for e in live)))
                headers[prefix + "reset"] = _rfc3339(time.time() + max(full_at, 0.0))
        return headers

    def _check_auth(self, req: _Request) -> None:
        bearer = req.headers.get("authorization", "")
        key = bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None
        key = key or req.headers.get("x-api-key")
        if key != self.api_key:
            raise ApiError(401, "invalid x-api-key")
        if not req.headers.get("anthropic-version"):
            raise ApiError(400, "anthropic-version: header is required")

    def _route(self, req: _Request) -> Callable[[_Request], _Response]:
        if not self.files_api and req.path.startswith("/v1/files"):
            raise ApiError(404, f"Not found: {req.method} {req.path}")
        for method, pattern, handler in self._routes:
            found = pattern.match(req.path)
            if found and method == req.method:
                req.params = found.groupdict()
                return handler
        raise ApiError(404, f"Not found: {req.method} {req.path}")

    def _take_fault(self, req: _Request) -> None:
        with self._lock:
            for fault in self._faults:
                path = fault["path"]
                hit = req.path.startswith(path[:-1]) if path.endswith("*") else req.path == path
                if hit and fault["count"] > 0:
                    fault["count"] -= 1
                    break
            else:
                return
        if req.path == "/v1/messages":
            self._record_message(req, fault["status"])
        headers = {}
        if fault["retry_after"] is not None:
            headers = {
                "retry-after": str(math.ceil(fault["retry_after"])),
                "retry-after-ms": str(int(fault["retry_after"] * 1000)),
            }
        raise ApiError(fault["status"], "Injected fault", headers=headers)

    def _record_message(self, req: _Request, status: int) -> dict[str, Any]:
        try:
            body = req.json()
        except ApiError:
            body = {}
        body["_status"] = status
        body["_started"] = time.monotonic()  # when it arrived; `_ended` when the answer did
        with self._lock:
            self.message_requests.append(body)
        return body


class _Server(ThreadingHTTPServer):
    """A listen backlog like a real front end's: the stdlib's 5 drops the SYNs of a client that
    opens 64 connections at once, which then wait a second to retransmit (a fault the API does
    not have)."""

    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (killed, or cut off by a test) is not the server's error: the
        API logs nothing for it, and neither do we. Anything else is printed as before."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Turns raw HTTP into a `_Request` for the fake and writes its `_Response` back."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as API servers set it: otherwise a body written after its headers waits for
    # the client's delayed ACK, up to 40 ms on every unstreamed answer.
    disable_nagle_algorithm = True
    server: Any

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:  # the client died mid-request: a server never acts on half a body
            self.close_connection = True
            return
        req = _Request(
            self.command,
            split.path,
            parse_qs(split.query),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        resp = self.server.fake.handle(req)
        if resp.cut:
            self._reset()
            return
        if resp.events is not None:
            self._serve_events(resp)
            return
        payload = resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
        self.send_response(resp.status)
        self.send_header("content-type", resp.content_type)
        self.send_header("content-length", str(len(payload)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _serve_events(self, resp: _Response) -> None:
        """Write a stream as it is produced; the connection closes at its end (no length known)."""
        assert resp.events is not None
        self.send_response(resp.status)
        self.send_header("content-type", resp.content_type)
        self.send_header("connection", "close")
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        try:
            for chunk in resp.events:
                self.wfile.write(chunk)
                self.wfile.flush()
        except _Cut:
            self._reset()

    def _reset(self) -> None:
        """Drop the connection with a TCP reset, as a failing proxy or network would."""
        self.close_connection = True
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeAnthropic.requests` instead."""
