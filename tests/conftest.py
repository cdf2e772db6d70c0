"""Every test gets its own data home, no API key from the machine, and zero retry back-off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh PANEL_HOME per test and none of the developer's keys or settings."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "PANEL_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("PANEL_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's retry waits are real sleeps; tests keep the retries and drop the waiting."""
    import anthropic._base_client as base

    monkeypatch.setattr(base, "INITIAL_RETRY_DELAY", 0.0)
    monkeypatch.setattr(base, "MAX_RETRY_DELAY", 0.0)
