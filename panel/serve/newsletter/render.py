"""The newsletter's templates: pages and HTML mail with autoescape, text mail without (and without
control characters in either), all with StrictUndefined.

In a text mail each value is one line: a tool's name or tagline is the model's writing, and a line
break in it would let it forge a line of the mail (an `Unsubscribe:` link, a verdict of its own).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from panel.pages.escaping import without_controls


def one_line(value: object) -> object:
    """A value as a text mail shows it: without control characters, every run of white space
    (line breaks, Unicode's line and paragraph separators) one space."""
    value = without_controls(value)
    return " ".join(value.split()) if isinstance(value, str) else value


@cache
def _env(autoescape: bool) -> Environment:
    return Environment(
        loader=PackageLoader("panel.serve.newsletter", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=without_controls if autoescape else one_line,
    )


def html(name: str, **context: Any) -> str:
    """A page or an HTML mail part: every value escaped."""
    return _env(True).get_template(name).render(**context)


def text(name: str, **context: Any) -> str:
    """A text mail part: each value on one line, less control characters."""
    return _env(False).get_template(name).render(**context)
