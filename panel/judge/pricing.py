"""Cost estimates from recorded usage and the price table in `prices.toml` (data, not code).

A model id finds its prices by family: `claude-sonnet-5-5`, its dated snapshots
(`claude-sonnet-5-5-20261001`) and aliases (`claude-sonnet-5-5-latest`) share one row. A model with
no row (a local model, a retired one) has no price: costs are None, shown as "price unknown".
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib.resources import files

from panel.config import DEFAULT_MIN_CACHE_TOKENS
from panel.model.run import ModelUsage
from panel.model.verdict import Usage

PER_MILLION = 1_000_000
# What follows a family's id in a snapshot or alias: `-20261001`, `-latest`, `-v1`.
SUFFIX = re.compile(r"-(?:\d{8}|latest|v\d+)$")


@cache
def price_table() -> dict[str, dict[str, float]]:
    text = (files("panel") / "prices.toml").read_text(encoding="utf-8")
    return dict(tomllib.loads(text)["models"])


@cache
def prices_for(model: str) -> dict[str, float] | None:
    """The price row of `model`'s family, or None when the table has no such family."""
    table = price_table()
    name = model.strip().lower()
    while name not in table:
        stripped = SUFFIX.sub("", name)
        if stripped == name:
            break
        name = stripped
    if name in table:
        return table[name]
    # An alias with more after the family (`claude-sonnet-5-5-preview`): the longest family it extends.
    for family in sorted(table, key=len, reverse=True):
        if name.startswith(family + "-"):
            return table[family]
    return None


def min_cache_tokens(model: str) -> int:
    """The shortest prefix `model` caches (the price table's `min_cache_tokens`): below it
    `cache_control` silently does nothing, so nobody should wait for a write or count a read."""
    prices = prices_for(model)
    return int((prices or {}).get("min_cache_tokens", DEFAULT_MIN_CACHE_TOKENS))


def cost(model: str, usage: Usage, *, batch: bool = False, cache_ttl: str = "5m") -> float | None:
    """USD for `usage` on `model`; None for a model we have no price for."""
    prices = prices_for(model)
    if prices is None:
        return None
    # Writes the API reported as 1-hour ones are priced so; the rest at `cache_ttl` (all of them
    # for usage recorded without the API's split).
    hour = min(usage.cache_creation_1h_input_tokens, usage.cache_creation_input_tokens)
    total = (
        usage.input_tokens * prices["input"]
        + usage.output_tokens * prices["output"]
        + (usage.cache_creation_input_tokens - hour) * prices[f"cache_write_{cache_ttl}"]
        + hour * prices["cache_write_1h"]
        + usage.cache_read_input_tokens * prices["cache_read"]
    ) / PER_MILLION
    return round(total / 2 if batch else total, 6)


def list_cost(model: str, usage: Usage) -> float | None:
    """USD for `usage` at list price: every input token at the input price, no batch discount.
    What the same calls would have cost without caching or batches."""
    prices = prices_for(model)
    if prices is None:
        return None
    sent = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens
    return round((sent * prices["input"] + usage.output_tokens * prices["output"]) / PER_MILLION, 6)


def charge(
    shares: dict[str, ModelUsage], model: str, usage: Usage, usd: float | None
) -> dict[str, ModelUsage]:
    """Add `usage` and what it cost to `model`'s share of a run; an unknown cost stays unknown."""
    before = shares.get(model, ModelUsage())
    total = before + usage
    known = None if (usd is None or (model in shares and before.cost_usd is None)) else usd
    shares[model] = ModelUsage(
        **total.model_dump(),
        cost_usd=None if known is None else round((before.cost_usd or 0.0) + known, 6),
    )
    return shares


def estimate_tokens(text_chars: int = 0, pdf_bytes: int = 0) -> int:
    """A rough count for --dry-run: ~4 characters a token for text, ~1 token per 3 PDF bytes."""
    return text_chars // 4 + pdf_bytes // 3
