"""Defaults and settings: constants -> environment (`PANEL_*`) -> flags.

Every tunable number lives here as a named `DEFAULT_*` constant so that a reader finds them in one
place and tests can override them. The data home is found the way git finds `.git`: `--home`, else
`PANEL_HOME`, else the nearest `runs/` holding a panel database above the current directory, else
the platform's user data directory. Model names go through the aliases in `models.toml`.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path

import platformdirs

from panel.errors import ConfigError, InputError

VERSION = "0.1.0"

DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_CARD_MODEL = "claude-haiku-5-5"
DEFAULT_MAX_TOKENS = 1500
DEFAULT_CARD_MAX_TOKENS = 800
# The data home's directory name when found above the current directory (a project's own `runs/`).
HOME_DIR_NAME = "runs"
# What marks a `runs/` as a panel data home (TensorBoard and others write `runs/` too).
HOME_MARKER = "panel.db"
# Directory name under the platform's user data and config directories.
APP_NAME = "panel"
# A tie between ship and skip is broken by the mean score against this threshold.
DEFAULT_SHIP_THRESHOLD = 70.0
# Fewer successful verdicts than this and the panel is "incomplete".
DEFAULT_QUORUM = 3
# Calls per persona in a review (`--samples K`): above 1, each verdict is the median of K samples.
DEFAULT_SAMPLES = 1
# More samples than this buy no steadier median, only a bill (a typo of 99999 would be $2,000+).
MAX_SAMPLES = 25
# The context window of every current model, in tokens: documents past it cannot be sent at all.
CONTEXT_TOKENS = 1_000_000
# Largest local file we read (the Files API takes up to 500 MB; a review never needs that much).
DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024
# `panel redteam`: cases reviewed at once (each is two reviews of one call per persona, in turn).
DEFAULT_REDTEAM_CONCURRENCY = 2
# The shortest prompt prefix any current model caches; below it `cache_control` does nothing.
DEFAULT_MIN_CACHE_TOKENS = 1024
# The live site's newsletter: the secret that signs its links (shared by `panel serve` and
# `panel digest --send`) and the site's public URL that mailed links start with.
SECRET_ENV = "PANEL_SECRET_KEY"
BASE_URL_ENV = "PANEL_BASE_URL"
# How long a newsletter confirmation link works. Here, below both the links (`panel.serve`) and the
# store, because a pending subscription whose last link has expired is purged from the store.
DEFAULT_CONFIRM_MAX_AGE = timedelta(hours=48)


def check_samples(samples: int, name: str = "--samples") -> int:
    """Calls per persona: from 1 to MAX_SAMPLES, or one line saying so."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise InputError(f"{name} {samples}: must be from 1 to {MAX_SAMPLES} (calls per persona)")
    return samples


class SettingError(ConfigError):
    """A setting that cannot be used, named the way the user gave it (`--home`, `PANEL_*`)."""


def env_number(
    name: str,
    default: float,
    *,
    minimum: float = 0.0,
    above: bool = False,
    env: Mapping[str, str] | None = None,
) -> float:
    """A number from `PANEL_*`, else `default`: finite (no `nan` or `inf`, which would wait
    forever or never) and at least `minimum` (more than it, with `above`)."""
    raw = (os.environ if env is None else env).get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r}: not a number") from None
    if not math.isfinite(value):
        raise SettingError(f"{name}={raw!r}: must be a finite number")
    if value < minimum or (above and value == minimum):
        bound = "more than" if above else "at least"
        raise SettingError(f"{name}={raw!r}: must be {bound} {minimum:g}")
    return value


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one command; flags win over the environment."""

    home: Path
    model: str
    card_model: str
    # Why this home: "--home", "PANEL_HOME", "found" (a runs/ above the working directory), "user".
    home_source: str = "--home"
    ship_threshold: float = DEFAULT_SHIP_THRESHOLD
    quorum: int = DEFAULT_QUORUM
    samples: int = DEFAULT_SAMPLES
    max_tokens: int = DEFAULT_MAX_TOKENS
    personas_dir: Path | None = None
    prompts_dir: Path | None = None
    allow_private: bool = False


def resolve(
    *,
    home: Path | None = None,
    model: str | None = None,
    card_model: str | None = None,
    personas_dir: Path | None = None,
    allow_private: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge flags over `PANEL_*` environment variables over defaults."""
    env = dict(os.environ) if env is None else env

    def path_env(name: str) -> Path | None:
        return Path(env[name]) if env.get(name) else None

    resolved_home, home_from = find_home(home, path_env("PANEL_HOME"), cwd or Path.cwd())
    if home_from in ("--home", "PANEL_HOME"):
        check_dir(resolved_home, home_from, must_exist=False)
    prompts_dir = path_env("PANEL_PROMPTS")
    if prompts_dir is not None:
        check_dir(prompts_dir, "PANEL_PROMPTS", must_exist=True)
    if personas_dir is None and (personas_dir := path_env("PANEL_PERSONAS")) is not None:
        check_dir(personas_dir, "PANEL_PERSONAS", must_exist=True)
    return Settings(
        home=resolved_home,
        home_source=home_from,
        model=model_id(model or env.get("PANEL_MODEL") or DEFAULT_MODEL),
        card_model=model_id(card_model or env.get("PANEL_CARD_MODEL") or DEFAULT_CARD_MODEL),
        ship_threshold=ship_threshold(env.get("PANEL_SHIP_THRESHOLD")),
        personas_dir=personas_dir,
        prompts_dir=prompts_dir,
        allow_private=allow_private or env.get("PANEL_ALLOW_PRIVATE", "") in {"1", "true", "yes"},
    )


def find_home(flag: Path | None, env_home: Path | None, cwd: Path) -> tuple[Path, str]:
    """The data home and where it came from; finding one never creates it."""
    if flag:
        return flag, "--home"
    if env_home:
        return env_home, "PANEL_HOME"
    for folder in (cwd, *cwd.parents):
        candidate = folder / HOME_DIR_NAME
        if (candidate / HOME_MARKER).is_file():
            return candidate, "found"
    return user_data_home(), "user"


def user_data_home() -> Path:
    """The platform's per-user data directory (`~/.local/share/panel` on Linux, honouring XDG)."""
    return platformdirs.user_data_path(APP_NAME)


def user_config_dir() -> Path:
    """The platform's per-user config directory (`~/.config/panel` on Linux): the stored key."""
    return platformdirs.user_config_path(APP_NAME)


def home_reason(settings: Settings, cwd: Path | None = None) -> str:
    """Why `settings.home` is the data home, in words for `panel home`."""
    return {
        "--home": "from --home",
        "PANEL_HOME": "from the PANEL_HOME environment variable",
        "found": f"found at {settings.home}: the nearest runs/ with a {HOME_MARKER} above "
        f"{cwd or Path.cwd()}",
        "user": "the user data directory (no --home, no PANEL_HOME, no runs/ with a "
        f"{HOME_MARKER} above {cwd or Path.cwd()})",
    }[settings.home_source]


@cache
def model_aliases() -> dict[str, str]:
    """Short model names and the ids they stand for, from `models.toml`."""
    text = (files("panel") / "models.toml").read_text(encoding="utf-8")
    return dict(tomllib.loads(text)["aliases"])


def model_id(name: str) -> str:
    """A model's full id: an alias (`sonnet`) becomes its id; any other name is passed through."""
    name = name.strip()
    return model_aliases().get(name.lower(), name)


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
