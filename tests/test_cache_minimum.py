"""Issue 21: each model's minimum cacheable prefix, in the estimate and in run_personas' wait."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from panel.config import Settings
from panel.judge.estimate import Counts, estimate
from panel.judge.pricing import min_cache_tokens
from panel.judge.session import Session, cacheable
from panel.sources.documents import Document

# ~2000 tokens: over Sonnet's 1024-token minimum, under Opus's and Haiku's 4096.
MIDDLING = "Acme keeps the plugin API small and its release notes honest. " * 130


def settings(model: str) -> Settings:
    return Settings(home=Path("."), model=model, card_model="claude-haiku-5-5")


def session_with(text: str) -> Session:
    doc = Document(
        name="acme.md",
        title="acme",
        mime="text/plain",
        origin="file",
        source="acme.md",
        data=text.encode(),
    )
    return cast(Session, SimpleNamespace(system="You review tools.", docs=[doc]))


@pytest.mark.parametrize(
    ("model", "least"), [("claude-sonnet-5-5", 1024), ("claude-opus-5-5", 4096)]
)
def test_each_model_has_its_own_minimum(model: str, least: int) -> None:
    """The price table gives each family its own minimum; dated ids share it."""
    assert min_cache_tokens(model) == min_cache_tokens(model + "-20261001") == least


def test_the_estimate_counts_no_cache_under_the_models_minimum() -> None:
    """A 2000-token prefix caches on Sonnet but not on Opus: Opus is estimated all uncached."""
    counts = Counts(prefix=2000, personas=[2100] * 4, card=2100)
    sonnet = estimate(counts, settings("claude-sonnet-5-5")).models["claude-sonnet-5-5"]
    opus = estimate(counts, settings("claude-opus-5-5")).models["claude-opus-5-5"]
    assert sonnet.cache_read_input_tokens == 3 * 2000
    assert opus.cache_read_input_tokens == opus.cache_creation_input_tokens == 0
    assert opus.input_tokens == 4 * 2100


def test_personas_do_not_wait_for_a_write_the_model_would_not_make() -> None:
    """Under Opus's minimum the panel fires at once instead of waiting on the first stream."""
    session = session_with(MIDDLING)
    assert cacheable(session, "claude-sonnet-5-5") is True
    assert cacheable(session, "claude-opus-5-5") is False
