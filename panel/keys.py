"""Where the API key comes from: the environment, a `.env` in the working directory, or the key
stored by `panel keys set` in the user config directory (mode 0600). The environment wins.

The key is put in this process's environment for the API client and is never printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dotenv import dotenv_values

from panel.config import user_config_dir
from panel.errors import ConfigError

KEY_ENV = "ANTHROPIC_API_KEY"
KEYS_FILE = "keys.json"
# The name a key is stored under in keys.json (one file could hold more providers' keys).
PROVIDER = "anthropic"
# Where the key in use came from, once `load_environment` has run: "environment", a .env path,
# the key file's path, or None (no key).
key_source: str | None = None


def keys_path() -> Path:
    """The file `panel keys set` writes: `keys.json` in the user config directory."""
    return user_config_dir() / KEYS_FILE


def load_environment(cwd: Path | None = None) -> str | None:
    """Fill the environment from `.env` (variables already set win), then the key from the stored
    key file if the environment still has none. Returns where the key came from, or None."""
    global key_source
    key_source = _load(cwd)
    return key_source


def _load(cwd: Path | None) -> str | None:
    had_key = bool(os.environ.get(KEY_ENV))
    dotenv = (cwd or Path.cwd()) / ".env"
    if dotenv.is_file():
        for name, value in dotenv_values(dotenv).items():
            if value is not None and not os.environ.get(name):  # set and empty is unset
                os.environ[name] = value
    if had_key:
        return "environment"
    if os.environ.get(KEY_ENV):
        return str(dotenv)
    stored = stored_key()
    if stored:
        os.environ[KEY_ENV] = stored
        return str(keys_path())
    return None


def stored_key() -> str | None:
    """The key `panel keys set` stored, or None; an unreadable file is a one-line error."""
    path = keys_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read as a key file ({exc})") from None
    key = data.get(PROVIDER) if isinstance(data, dict) else None
    return key if isinstance(key, str) and key else None


def store_key(key: str) -> Path:
    """Write the key to `keys.json`, readable by its owner only (0600), replacing any before."""
    key = key.strip()
    if not key or any(c.isspace() for c in key):
        raise ConfigError("the key is empty or contains spaces; paste it on one line")
    path = keys_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({PROVIDER: key}, fh)
        fh.write("\n")
    os.chmod(tmp, 0o600)  # an existing temp file keeps its mode through O_CREAT
    os.replace(tmp, path)
    return path


def missing_key_message() -> str:
    """What to do when a command needs the API and no key was found anywhere."""
    return (
        f"no API key: set {KEY_ENV}, put {KEY_ENV}=sk-ant-... in a .env file here, "
        "or run `panel keys set`"
    )
