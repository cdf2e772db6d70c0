"""The newsletter's templates: pages and HTML mail with autoescape, text mail without (and without
control characters in either), all with StrictUndefined."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from panel.pages.escaping import without_controls


@cache
def _env(autoescape: bool) -> Environment:
    return Environment(
        loader=PackageLoader("panel.serve.newsletter", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=without_controls,
    )


def html(name: str, **context: Any) -> str:
    """A page or an HTML mail part: every value escaped."""
    return _env(True).get_template(name).render(**context)


def text(name: str, **context: Any) -> str:
    """A text mail part: values as they are, less control characters."""
    return _env(False).get_template(name).render(**context)
