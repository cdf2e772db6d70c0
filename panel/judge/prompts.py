"""Prompt templates are Jinja2 files; a user directory overrides the built-in ones."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)

from panel.errors import ConfigError
from panel.resources import builtin_dir

_VERSION = re.compile(r"\{#-?\s*version:\s*(\d+)\s*-?#\}")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def environment(user_dir: Path | None, user_files: tuple[str, ...] = ()) -> Environment:
    """One Jinja environment per template directory (and its files), shared by every `Prompts`.

    Compiling the templates is most of the cost of rendering them, and `panel.review` in a loop
    makes a `Prompts` per review; the environment keeps what it compiled, and `auto_reload`
    still recompiles a template whose file has changed.
    """
    loaders = [FileSystemLoader(str(user_dir))] if user_dir else []
    loaders.append(FileSystemLoader(str(builtin_dir("prompts"))))
    return Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,  # prompts are plain text for a model, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=True,
    )


@dataclass(frozen=True)
class Prompts:
    """Renders the panel's templates with StrictUndefined: a missing variable is an error."""

    user_dir: Path | None = None

    def __post_init__(self) -> None:
        # A FileSystemLoader over a missing directory finds nothing and says nothing: the
        # built-ins would be used while the user believes their templates are.
        if self.user_dir is not None and not self.user_dir.is_dir():
            what = "is not a directory" if self.user_dir.exists() else "does not exist"
            raise ConfigError(f"prompts directory {self.user_dir} {what}")

    @cached_property
    def env(self) -> Environment:
        # The user's file names are part of the key: an override added since the environment
        # was made must win over the built-in it had compiled.
        names = tuple(sorted(p.name for p in self.user_dir.iterdir())) if self.user_dir else ()
        return environment(self.user_dir, names)

    def render(self, name: str, **context: Any) -> str:
        """Render `prompts/<name>.j2`; any template problem becomes one readable error."""
        filename = f"{name}.j2"
        try:
            template = self.env.get_template(filename)
        except Exception as exc:
            raise self._error(filename, exc) from exc
        try:
            return template.render(**context).strip()
        except Exception as exc:  # a template can raise anything: {{ 1/0 }}, a bad method call
            raise self._error(template.filename or filename, exc) from exc

    def version(self, name: str) -> int:
        """The `{#- version: N -#}` header of a template, stored with every run that used it."""
        assert self.env.loader is not None
        try:
            source, _, _ = self.env.loader.get_source(self.env, f"{name}.j2")
        except Exception as exc:
            raise self._error(f"{name}.j2", exc) from exc
        match = _VERSION.search(source)
        return int(match.group(1)) if match else 0

    def _error(self, filename: str, exc: Exception) -> ConfigError:
        """A template problem as one line: the file, the template line when known, the reason."""
        if isinstance(exc, TemplateNotFound):
            return ConfigError(f"prompt template {filename}: not found")
        if isinstance(exc, UnicodeDecodeError):
            return ConfigError(
                f"prompt template {self._path(filename)}: not UTF-8 text (byte {exc.start})"
            )
        where, line = filename, _template_line(exc, filename)
        if isinstance(exc, TemplateSyntaxError):  # unknown filters and tests included
            where, line = exc.filename or filename, exc.lineno
        at = f":{line}" if line else ""
        reason = str(exc).splitlines()[0] if str(exc) else ""
        if not isinstance(exc, TemplateError):
            reason = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
        return ConfigError(f"prompt template {where}{at}: {reason}")

    def _path(self, filename: str) -> str:
        """Where a template that could not be decoded lives: the user's copy wins."""
        if self.user_dir is not None and (self.user_dir / filename).is_file():
            return str(self.user_dir / filename)
        return str(builtin_dir("prompts") / filename)


def _template_line(exc: BaseException, filename: str) -> int | None:
    """The template line an exception came from: Jinja rewrites traceback frames to point there."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
