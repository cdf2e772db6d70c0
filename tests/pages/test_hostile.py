"""Model-written and fetched text stays text on every page: no element, attribute or link is created."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from panel.model import Votes
from panel.pages import compare_html, index_html, methodology_html, review_html

# The same strings the `hostile` fixture plants in card fields, rationales and sources.
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"


def pages(hostile, acme, personas):
    return {
        "review": review_html(hostile, [hostile], personas, Votes()),
        "compare": compare_html(hostile, acme, personas, Votes(), Votes()),
        "index": index_html([hostile, acme], [(hostile, acme)]),
        "methodology": methodology_html(personas, {"system": 1}),
    }


@pytest.fixture(params=["review", "compare", "index", "methodology"])
def page(request, hostile, acme, personas, parse):
    return request.param, parse(pages(hostile, acme, personas)[request.param])


def test_only_the_sorter_script(page):
    """No page has a <script> but the index's one sorter."""
    name, p = page
    assert len(p.tags("script")) == (1 if name == "index" else 0)


def test_no_event_handler_attributes(page):
    """No element carries an on* attribute: hostile text did not become attributes."""
    _, p = page
    assert not [e for e in p.elements for a in e.attrs if a.startswith("on")]


def test_no_javascript_href(page):
    """No link points at a javascript: URL, in any letter case."""
    _, p = page
    assert not [
        e for e in p.elements if e.attrs.get("href", "").strip().lower().startswith("javascript:")
    ]


def test_no_remote_resources(page):
    """No src= is an http(s) URL and no stylesheet is linked: the page loads nothing from anywhere."""
    _, p = page
    assert not [e for e in p.elements if re.match(r"\s*(https?:)?//", e.attrs.get("src", ""))]
    assert not [e for e in p.tags("link") if "stylesheet" in e.attrs.get("rel", "")]
    assert not p.tags("img") and not p.tags("iframe")


def test_csp_hash_matches_the_script(page):
    """The Content-Security-Policy names the sha256 of exactly the inline script, or allows none."""
    name, p = page
    csp = p.csp()
    assert (
        "default-src 'none'" in csp
        and "style-src 'unsafe-inline'" in csp
        and "img-src data:" in csp
    )
    if name == "index":
        digest = hashlib.sha256(p.scripts[0].encode("utf-8")).digest()
        assert f"script-src 'sha256-{base64.b64encode(digest).decode()}'" in csp
    else:
        assert "script-src 'none'" in csp


@pytest.mark.parametrize("name", ["review", "compare"])
def test_hostile_text_shown_as_text(hostile, acme, personas, parse, name):
    """The hostile strings are on the page as readable text."""
    p = parse(pages(hostile, acme, personas)[name])
    assert HOSTILE_SCRIPT in p.text and HOSTILE_IMG in p.text
    assert not [e for e in p.elements if e.tag == "img"]


def test_javascript_source_is_plain_text(hostile, personas, parse):
    """A javascript: source URL is shown as text and never linked."""
    p = parse(review_html(hostile, [hostile], personas, Votes()))
    assert "javascript:alert(1)" in p.text and "JaVaScRiPt:alert(2)" in p.text
    assert not [a for a in p.tags("a") if "alert" in a.attrs.get("href", "")]


def test_hostile_category_stays_in_its_attribute(hostile, acme, parse):
    """A category with quotes stays one data-category value on the index row."""
    p = parse(index_html([hostile, acme]))
    rows = [e for e in p.tags("tr") if "data-category" in e.attrs]
    assert rows[0].attrs["data-category"].startswith('Cat" onmouseover="alert(1)')
    assert not [e for e in p.elements if "onmouseover" in e.attrs]
