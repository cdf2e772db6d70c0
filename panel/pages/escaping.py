"""Markdown escaping for untrusted text (rationales, card fields, titles): the Markdown templates run
without HTML autoescape, so every value passes through `md_text` or `md_cell` instead.

Backslash-escaping ASCII punctuation is CommonMark's own way to make a character literal, so raw HTML,
links, emphasis and table pipes in the text all stay text when the page is rendered.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from panel.sources.text import strip_control_chars

# The characters that can start markup inline; `&` too, so `&lt;` stays literal text.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# Line starts that would turn a paragraph into a list, heading, quote, or rule.
_BLOCK_START = re.compile(r"^(\s*)([-+=#]|\d+[.)])")


def without_controls(value: object) -> object:
    """A value as a page may show it: a string without control characters; anything else as it
    is (our own markup, marked safe, included)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_control_chars(value)
    return value


def md_text(value: object) -> str:
    """One line of literal Markdown text: newlines folded, markup characters escaped."""
    text = " ".join(str(value).split())
    text = _INLINE.sub(r"\\\1", text)
    return _BLOCK_START.sub(_escape_start, text)


def _escape_start(match: re.Match[str]) -> str:
    return match.group(1) + re.sub(r"(\D)", r"\\\1", match.group(2))


def md_cell(value: object) -> str:
    """A table cell: literal text that cannot end the cell or the row."""
    return md_text(value) or " "
