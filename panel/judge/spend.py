"""`panel cost`: what the stored runs cost, per tool, per model and in total, and what caching and
Message Batches saved against list price. Pure functions over Run records.

For each model's share of a run: *list* is every input token (cached or not) at the input price
and output at the output price, no batch discount; *standard* prices the same tokens with caching
(writes and reads at their own prices); *spent* is what the run recorded. Caching saved
list - standard (negative when writes were never read); batches saved standard - spent.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from panel.judge.pricing import cost, list_cost
from panel.model.run import ModelUsage, Run


class Spend(BaseModel):
    """Tokens by kind and dollars over some runs; dollars cover the priced calls only."""

    runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float | None = None  # None: nothing here has a price
    list_usd: float | None = None
    caching_saved_usd: float | None = None
    batches_saved_usd: float | None = None
    unpriced: int = 0  # model shares without a price (a model missing from prices.toml)

    def add(self, model: str, share: ModelUsage) -> None:
        self.input_tokens += share.input_tokens
        self.output_tokens += share.output_tokens
        self.cache_creation_input_tokens += share.cache_creation_input_tokens
        self.cache_read_input_tokens += share.cache_read_input_tokens
        listed, standard = list_cost(model, share), cost(model, share)
        if share.cost_usd is None or listed is None or standard is None:
            self.unpriced += 1
            return
        self.cost_usd = _plus(self.cost_usd, share.cost_usd)
        self.list_usd = _plus(self.list_usd, listed)
        self.caching_saved_usd = _plus(self.caching_saved_usd, listed - standard)
        self.batches_saved_usd = _plus(self.batches_saved_usd, standard - share.cost_usd)


class Report(BaseModel):
    since: str | None = None
    tools: dict[str, Spend]  # slug -> spend
    models: dict[str, Spend]
    total: Spend


def _plus(a: float | None, b: float) -> float:
    return round((a or 0.0) + b, 6)


def shares(run: Run) -> dict[str, ModelUsage]:
    """A run's usage per model; a record from before the split is all on its persona model."""
    if run.usage.models:
        return run.usage.models
    tokens = run.usage.model_dump(include=set(ModelUsage.model_fields) - {"cost_usd"})
    return {run.model: ModelUsage(**tokens, cost_usd=run.cost_usd)}


def report(runs: Iterable[Run], since: str | None = None) -> Report:
    """Spend per tool, per model and in total; runs created before `since` (ISO date) left out."""
    tools: dict[str, Spend] = {}
    models: dict[str, Spend] = {}
    total = Spend()
    for run in runs:
        if since is not None and run.created_at[:10] < since:
            continue
        tool = tools.setdefault(run.tool.slug, Spend())
        for spend in (tool, total):
            spend.runs += 1
        for model, share in shares(run).items():
            by_model = models.setdefault(model, Spend())
            by_model.runs += 1
            for spend in (tool, by_model, total):
                spend.add(model, share)
    return Report(since=since, tools=tools, models=models, total=total)
