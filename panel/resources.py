"""Where the built-in data directories (personas/, prompts/) live, installed or in a checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def builtin_dir(name: str) -> Path:
    """Return the built-in `personas` or `prompts` directory.

    A wheel carries them inside the package (hatchling force-include); an editable install or a
    checkout has them at the repository's top level, beside `panel/`.
    """
    packaged = Path(str(files("panel"))) / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name
