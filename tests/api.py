"""Realistic Anthropic API responses for respx-mocked tests, built from the JSON fixture files."""

from __future__ import annotations

import copy
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import respx

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://api.anthropic.com"
_ids = itertools.count(1)

# pytest-httpx2 mocks httpx2 through respx, and respx speaks httpx: its router takes only httpx
# responses (an httpx2.Response is refused as "not an instance of Response") and hands side
# effects httpx requests. Replies are built as respx's own `MockResponse` and requests read through
# `Sent`, so no test imports httpx, which is respx's dependency and no longer panel's.
Response = respx.MockResponse


class Sent(Protocol):
    """The part of a mocked request (respx's Sent) that the tests read."""

    @property
    def content(self) -> bytes: ...


@cache
def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(_fixture(name))


def message(text: str | None = None, *, stop_reason: str = "end_turn", **verdict: Any) -> Response:
    """A Messages reply whose text is `text`, or a verdict JSON built from `verdict` fields."""
    body = fixture("message.json")
    if text is None:
        v = {"score": 82, "decision": "ship", "rationale": "Clean primitive.", **verdict}
        text = json.dumps(v)
    body["content"][0]["text"] = text
    body["stop_reason"] = stop_reason
    return Response(200, json=body)


def card() -> Response:
    return message(
        json.dumps(
            {
                "name": "Acme",
                "category": "Developer Tools",
                "tagline": "Builds things.",
                "description": "Acme builds things.",
                "pricing_summary": "Free tier, $20/mo pro.",
                "pricing_model": "freemium",
                "best_for": "Small teams",
            }
        )
    )


def file_created(request: Sent) -> Response:
    body = fixture("file.json")
    body["id"] = f"file_{next(_ids):06d}"
    return Response(200, json=body)


def error(status: int, name: str, **headers: str) -> Response:
    return Response(status, json=fixture(name), headers={"request-id": "req_x", **headers})


def sent(request: Sent) -> dict[str, Any]:
    return json.loads(request.content)


def file_ids_in(body: dict[str, Any]) -> list[str]:
    return [
        block["source"]["file_id"]
        for msg in body["messages"]
        if isinstance(msg["content"], list)
        for block in msg["content"]
        if block.get("type") == "document"
    ]


def is_card_call(body: dict[str, Any]) -> bool:
    return "tool card" in json.dumps(body["messages"][-1])
