"""Personas are data: one YAML file each, validated strictly, so adding a reviewer is adding a file."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from panel.errors import ConfigError
from panel.resources import builtin_dir

# libyaml's safe loader when PyYAML was built with it: the same documents, ten times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PERSONA_SUFFIXES = (".yaml", ".yml")


class Persona(BaseModel):
    """A reviewer on the panel and the lens it reviews through."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1)
    version: int = Field(ge=1)
    order: int = 100
    summary: str = Field(min_length=1)
    lens: list[str] = Field(min_length=1)
    ship_bar: str = Field(min_length=1)


def load_persona(path: Path) -> Persona:
    """Read and validate one persona file; any problem names the file and the field."""
    if not path.is_file():
        raise ConfigError(f"persona file {path}: not a file (a persona is one .yaml file)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"persona file {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"persona file {path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        reason = f": {problem}" if problem else ""
        raise ConfigError(f"persona file {path}:{where} is not valid YAML{reason}") from exc
    except RecursionError:
        raise ConfigError(f"persona file {path}: is not valid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigError(f"persona file {path}: expected a mapping of fields")
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise ConfigError(f"persona file {path}: field '{field}': {err['msg']}") from exc


def load_personas(directory: Path | None = None) -> list[Persona]:
    """Load every persona in `directory` (default: the built-in set), in panel order."""
    directory = directory or builtin_dir("personas")
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"personas directory {directory} is a file: give the directory it is in")
    if not directory.is_dir():
        raise ConfigError(f"personas directory {directory} does not exist")
    paths = sorted(p for p in directory.iterdir() if p.suffix in PERSONA_SUFFIXES)
    personas = [load_persona(p) for p in paths]
    if not personas:
        raise ConfigError(f"personas directory {directory} has no persona files (*.yaml)")
    seen: dict[str, Path] = {}
    for persona, path in zip(personas, paths, strict=True):
        if persona.id in seen:
            raise ConfigError(
                f"persona file {path}: field 'id': '{persona.id}' is also in {seen[persona.id]}"
            )
        seen[persona.id] = path
    return sorted(personas, key=lambda p: (p.order, p.id))
