"""Where each page lives in the site and how pages link to each other and to the outside world.

Every path is relative, so the site works from file:// and from any web root; an outside link is
kept only when it is plainly http(s), because a fetched or model-written URL is untrusted.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote, urlsplit

from panel.errors import InputError

INDEX = "index.html"
METHODOLOGY = "methodology.html"
FEED = "feed.xml"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Whitespace or control characters: browsers strip or ignore some of them, so a URL holding any is
# not the URL it looks like.
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f]")


def _checked(slug: str) -> str:
    """A stored slug is path-safe by construction; refuse anything else rather than quote it."""
    if not _SLUG.match(slug):
        raise InputError(f"tool key {slug!r} is not a path-safe slug")
    return slug


def tool_page(slug: str) -> str:
    """The review page of a tool: `tools/<slug>.html`."""
    return f"tools/{_checked(slug)}.html"


def compare_page(a: str, b: str) -> str:
    """The comparison page of two tools: `compare/<a>-vs-<b>.html`."""
    return f"compare/{_checked(a)}-vs-{_checked(b)}.html"


def relative(from_page: str, to_page: str) -> str:
    """The link from one site page to another, e.g. `../index.html` from `tools/acme.html`."""
    return posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")


def safe_href(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL with a host, else None (shown as plain text)."""
    if not url or _UNSAFE_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return url


def markdown_url(url: str) -> str:
    """An http(s) URL as a Markdown link destination: anything that could end it is percent-encoded."""
    return quote(url, safe=":/?#@!$&'*+,;=%~-._[]")
