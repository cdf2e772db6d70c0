"""Links between pages are relative; outside links are kept only when plainly http(s)."""

from __future__ import annotations

import pytest

from panel.errors import InputError
from panel.pages.links import compare_page, relative, safe_href, tool_page


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://acme.example/a?b=1", True),
        ("http://acme.example", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("file:///etc/passwd", False),
        ("//acme.example/x", False),
        ("https://", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_href(url, kept):
    """Only absolute http(s) URLs with a host become links."""
    assert (safe_href(url) is not None) is kept


@pytest.mark.parametrize(
    ("src", "dst", "href"),
    [
        ("index.html", tool_page("acme"), "tools/acme.html"),
        (tool_page("acme"), "index.html", "../index.html"),
        (tool_page("acme"), compare_page("acme", "beta"), "../compare/acme-vs-beta.html"),
        (compare_page("acme", "beta"), tool_page("beta"), "../tools/beta.html"),
        ("methodology.html", "feed.xml", "feed.xml"),
    ],
)
def test_relative(src, dst, href):
    """A page in a subfolder links up one level; root pages link straight down."""
    assert relative(src, dst) == href


@pytest.mark.parametrize("slug", ["../etc", "a/b", "", "Acme"])
def test_unsafe_slug_refused(slug):
    """A slug that is not path-safe never becomes a file name or a link."""
    with pytest.raises(InputError):
        tool_page(slug)
