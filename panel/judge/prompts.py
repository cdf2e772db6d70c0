"""Prompt templates are Jinja2 files; a user directory overrides the built-in ones."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError

from panel.errors import ConfigError
from panel.resources import builtin_dir

_VERSION = re.compile(r"\{#-?\s*version:\s*(\d+)\s*-?#\}")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Prompts:
    """Renders the panel's templates with StrictUndefined: a missing variable is an error."""

    user_dir: Path | None = None

    @cached_property
    def env(self) -> Environment:
        loaders = [FileSystemLoader(str(self.user_dir))] if self.user_dir else []
        loaders.append(FileSystemLoader(str(builtin_dir("prompts"))))
        return Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=False,  # prompts are plain text for a model, not HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(self, name: str, **context: Any) -> str:
        """Render `prompts/<name>.j2`; template problems become one readable error."""
        try:
            return self.env.get_template(f"{name}.j2").render(**context).strip()
        except TemplateError as exc:
            raise ConfigError(f"prompt template {name}.j2: {exc}") from exc

    def version(self, name: str) -> int:
        """The `{#- version: N -#}` header of a template, stored with every run that used it."""
        assert self.env.loader is not None
        source, _, _ = self.env.loader.get_source(self.env, f"{name}.j2")
        match = _VERSION.search(source)
        return int(match.group(1)) if match else 0
