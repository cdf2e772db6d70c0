"""Cost estimates from recorded usage and the price table in `prices.toml` (data, not code)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files

from panel.model.verdict import Usage

PER_MILLION = 1_000_000


@cache
def price_table() -> dict[str, dict[str, float]]:
    text = (files("panel") / "prices.toml").read_text(encoding="utf-8")
    return dict(tomllib.loads(text)["models"])


def cost(model: str, usage: Usage, *, batch: bool = False, cache_ttl: str = "5m") -> float | None:
    """USD for `usage` on `model`; None for a model we have no price for."""
    prices = price_table().get(model)
    if prices is None:
        return None
    total = (
        usage.input_tokens * prices["input"]
        + usage.output_tokens * prices["output"]
        + usage.cache_creation_input_tokens * prices[f"cache_write_{cache_ttl}"]
        + usage.cache_read_input_tokens * prices["cache_read"]
    ) / PER_MILLION
    return round(total / 2 if batch else total, 6)


def estimate_tokens(text_chars: int = 0, pdf_bytes: int = 0) -> int:
    """A rough count for --dry-run: ~4 characters a token for text, ~1 token per 3 PDF bytes."""
    return text_chars // 4 + pdf_bytes // 3
