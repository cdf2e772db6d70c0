"""Defaults and settings: constants -> environment (`PANEL_*`) -> flags.

Every tunable number lives here as a named `DEFAULT_*` constant so that a reader finds them in one
place and tests can override them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

VERSION = "0.1.0"

DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_CARD_MODEL = "claude-haiku-5-5"
DEFAULT_MAX_TOKENS = 1500
DEFAULT_CARD_MAX_TOKENS = 800
DEFAULT_HOME = Path("runs")
# A tie between ship and skip is broken by the mean score against this threshold.
DEFAULT_SHIP_THRESHOLD = 70.0
# Fewer successful verdicts than this and the panel is "incomplete".
DEFAULT_QUORUM = 3
# Largest local file we read (the Files API takes up to 500 MB; a review never needs that much).
DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024
# The shortest prompt prefix any current model caches; below it `cache_control` does nothing.
DEFAULT_MIN_CACHE_TOKENS = 1024
# SDK-level retries for 408/409/429/5xx/connection errors (the one retry layer for those).
DEFAULT_API_RETRIES = 4


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one command; flags win over the environment."""

    home: Path
    model: str
    card_model: str
    ship_threshold: float = DEFAULT_SHIP_THRESHOLD
    quorum: int = DEFAULT_QUORUM
    max_tokens: int = DEFAULT_MAX_TOKENS
    personas_dir: Path | None = None
    prompts_dir: Path | None = None
    allow_private: bool = False


def resolve(
    *,
    home: Path | None = None,
    model: str | None = None,
    personas_dir: Path | None = None,
    allow_private: bool = False,
    env: dict[str, str] | None = None,
) -> Settings:
    """Merge flags over `PANEL_*` environment variables over defaults."""
    env = dict(os.environ) if env is None else env

    def path_env(name: str) -> Path | None:
        return Path(env[name]) if env.get(name) else None

    return Settings(
        home=home or path_env("PANEL_HOME") or DEFAULT_HOME,
        model=model or env.get("PANEL_MODEL") or DEFAULT_MODEL,
        card_model=env.get("PANEL_CARD_MODEL") or DEFAULT_CARD_MODEL,
        ship_threshold=float(env.get("PANEL_SHIP_THRESHOLD") or DEFAULT_SHIP_THRESHOLD),
        personas_dir=personas_dir or path_env("PANEL_PERSONAS"),
        prompts_dir=path_env("PANEL_PROMPTS"),
        allow_private=allow_private or env.get("PANEL_ALLOW_PRIVATE", "") in {"1", "true", "yes"},
    )
