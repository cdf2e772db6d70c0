"""Defaults and settings: constants -> environment (`PANEL_*`) -> flags.

Every tunable number lives here as a named `DEFAULT_*` constant so that a reader finds them in one
place and tests can override them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from panel.errors import ConfigError

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
# `panel redteam`: cases reviewed at once (each is two reviews of one call per persona, in turn).
DEFAULT_REDTEAM_CONCURRENCY = 2
# The shortest prompt prefix any current model caches; below it `cache_control` does nothing.
DEFAULT_MIN_CACHE_TOKENS = 1024


class SettingError(ConfigError):
    """A setting that cannot be used, named the way the user gave it (`--home`, `PANEL_*`)."""


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

    home_from = "--home" if home else "PANEL_HOME"
    resolved_home = home or path_env("PANEL_HOME") or DEFAULT_HOME
    check_dir(resolved_home, home_from, must_exist=False)
    prompts_dir = path_env("PANEL_PROMPTS")
    if prompts_dir is not None:
        check_dir(prompts_dir, "PANEL_PROMPTS", must_exist=True)
    if personas_dir is None and (personas_dir := path_env("PANEL_PERSONAS")) is not None:
        check_dir(personas_dir, "PANEL_PERSONAS", must_exist=True)
    return Settings(
        home=resolved_home,
        model=model or env.get("PANEL_MODEL") or DEFAULT_MODEL,
        card_model=env.get("PANEL_CARD_MODEL") or DEFAULT_CARD_MODEL,
        ship_threshold=ship_threshold(env.get("PANEL_SHIP_THRESHOLD")),
        personas_dir=personas_dir,
        prompts_dir=prompts_dir,
        allow_private=allow_private or env.get("PANEL_ALLOW_PRIVATE", "") in {"1", "true", "yes"},
    )


def ship_threshold(text: str | None) -> float:
    """`PANEL_SHIP_THRESHOLD`: a mean score from 0 to 100; unset or empty is the default."""
    text = (text or "").strip()
    if not text:
        return DEFAULT_SHIP_THRESHOLD
    try:
        value = float(text)
    except ValueError:
        raise SettingError(
            f"PANEL_SHIP_THRESHOLD={text!r}: not a number (a mean score from 0 to 100)"
        ) from None
    if not (math.isfinite(value) and 0 <= value <= 100):
        raise SettingError(f"PANEL_SHIP_THRESHOLD={text!r}: must be from 0 to 100")
    return value


def check_dir(path: Path, given_as: str, *, must_exist: bool) -> None:
    """A directory setting that is a file (or sits under one) is an error before any work."""
    label = f"{given_as} {path}" if given_as.startswith("--") else f"{given_as}={path}"
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                where = "" if candidate == path else f" ({candidate} is a file)"
                raise SettingError(f"{label}: not a directory{where}")
            break
    if must_exist and not path.is_dir():
        raise SettingError(f"{label}: no such directory")
