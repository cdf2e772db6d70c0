"""A model's reply as panel reads it: its text, its token usage, and its validation.

Pure functions over the SDK's objects (or their dict form, as a stream or a batch results file
carries them), apart from `Client` so that live replies and Message Batches results are read and
validated by the very same code, which needs no SDK to import or test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from panel.model.verdict import Usage

M = TypeVar("M", bound=BaseModel)


@dataclass
class Reply(Generic[M]):
    """A structured reply: `parsed` is None when the text failed validation (see `error`)."""

    parsed: M | None
    raw: str
    stop_reason: str | None
    usage: Usage
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def text_of(content: Sequence[Any]) -> str:
    """Join the text blocks of a reply; thinking and other blocks are skipped by type."""
    parts = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else getattr(block, "type", None)
        if kind == "text":
            parts.append(block["text"] if isinstance(block, dict) else block.text)
    return "".join(parts)


def usage_of(raw_usage: Any) -> Usage:
    if raw_usage is None:
        return Usage()
    get = field_of(raw_usage)
    split = get("cache_creation")  # {ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}
    return Usage(
        input_tokens=get("input_tokens") or 0,
        output_tokens=get("output_tokens") or 0,
        cache_creation_input_tokens=get("cache_creation_input_tokens") or 0,
        cache_read_input_tokens=get("cache_read_input_tokens") or 0,
        cache_creation_1h_input_tokens=(
            field_of(split)("ephemeral_1h_input_tokens") or 0 if split is not None else 0
        ),
    )


def field_of(obj: Any) -> Callable[[str], Any]:
    """A getter for a field of an SDK object or of its dict form (a stream's pieces)."""
    return obj.get if isinstance(obj, dict) else (lambda k: getattr(obj, k, None))


def validate_reply(
    schema: type[M], text: str, stop_reason: str | None
) -> tuple[M | None, str | None]:
    """Validate a reply's text against `schema`: the one path for live and batch replies."""
    if stop_reason == "refusal":
        return None, "the model refused to answer"
    if stop_reason == "max_tokens":
        return None, "the reply was cut off at max_tokens"
    try:
        return schema.model_validate_json(text), None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return None, f"invalid reply: {where + ': ' if where else ''}{first['msg']}"
