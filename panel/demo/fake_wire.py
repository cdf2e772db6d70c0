"""The fake API's wire: requests, responses and errors as the HTTP API spells them.

Apart from the endpoints so that every handler reads a request and answers an error the
same way (the error types, the ids, the limits a request is checked against).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from panel.demo import fake_limits

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


ERROR_TYPES.update({k: v for k, v in fake_limits.EXTRA_ERROR_TYPES.items() if v != "api_error"})


STATUS_FOR_ERROR = {v: k for k, v in ERROR_TYPES.items()}


SAMPLING_PARAMS = ("temperature", "top_p", "top_k")


DOCUMENT_MIME_TYPES = ("application/pdf", "text/plain")


IMAGE_MIME_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


IMAGE_TOKENS = 1600  # a typical ~1.2-megapixel image; the real count depends on its size


MAX_CACHE_BREAKPOINTS = 4


CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ApiError(Exception):
    """An error response: the status picks the error type unless one is given."""

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type or ERROR_TYPES.get(status, "api_error")
        self.message = message
        self.headers = headers or {}
        self.error_code = error_code  # `error.details.error_code`: the SDK's finer exception


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise ApiError(400, f"Request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return data


@dataclass
class _Response:
    status: int
    body: Any  # JSON-able, or bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    events: Iterator[bytes] | None = None  # a server-sent event stream, written as it is produced
    cut: bool = False  # reset the connection instead of answering


class _Cut(Exception):
    """Raised inside an event stream: the connection is reset mid-stream."""


def _new_id(prefix: str) -> str:
    return f"{prefix}_01{random.getrandbits(96):024x}"


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _tokens(chars: int | float) -> int:
    """The usual ~4 characters a token."""
    return math.ceil(chars / 4)


def _error_body(err: ApiError, request_id: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": err.error_type, "message": err.message}
    if err.error_code is not None:
        error["details"] = {"error_code": err.error_code}
    return {"type": "error", "error": error, "request_id": request_id}


def _request_text(params: dict[str, Any]) -> str:
    """System plus every text block of the messages: what `script` and `set_score` match."""
    parts: list[str] = []
    system = params.get("system")
    for block in [system] if isinstance(system, str) else system or []:
        parts.append(block if isinstance(block, str) else str(block.get("text", "")))
    for message in params.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in [content] if isinstance(content, str) else content or []:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
    return "\n".join(parts)


MODELS = ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5")


# A generous organisation (tier 4) unless a test sets `limits` or `rpm_limit`.
DEFAULT_LIMITS = (4000, 2_000_000, 400_000)


def _model_class(model: str) -> str:
    found = re.search(r"(opus|sonnet|haiku)", model)
    return found.group(1) if found else model


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str, str, bytes]]:
    """Form fields by name as (filename, content type, bytes), using the stdlib email parser."""
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(400, "Content-Type must be multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        data = bytes(part.get_payload(decode=True) or b"")
        mime = part.get_content_type() if part.get("content-type") else ""
        fields[str(name)] = (part.get_filename() or "", mime, data)
    return fields
