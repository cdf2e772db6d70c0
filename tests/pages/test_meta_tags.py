"""Every page has a meta description and Open Graph tags (title, description, type, site name),
made from the page's own facts and escaped like everything else."""

from __future__ import annotations

import lxml.html
import pytest

from panel.model import Votes
from panel.pages import compare_html, index_html, methodology_html, review_html

HOSTILE_SCRIPT = "<script>alert(1)</script>"


def metas(html: str) -> dict[str, str]:
    tree = lxml.html.fromstring(html)
    found = {}
    for m in tree.xpath("//head/meta"):
        key = m.get("name") or m.get("property")
        if key:
            found[key] = m.get("content")
    return found


@pytest.fixture
def pages(acme, beta, personas):
    return {
        "review": review_html(acme, [acme], personas, Votes()),
        "compare": compare_html(acme, beta, personas, Votes(), Votes()),
        "index": index_html([acme, beta]),
        "methodology": methodology_html(personas, {"system": 1}),
    }


@pytest.mark.parametrize("kind", ["review", "compare", "index", "methodology"])
def test_every_page_has_description_and_open_graph(pages, kind):
    """A non-empty description, and og:title/description/type/site_name, on each kind of page."""
    found = metas(pages[kind])
    for key in ("description", "og:title", "og:description", "og:type", "og:site_name"):
        assert found.get(key), (kind, key)
    assert found["og:description"] == found["description"]
    assert len(found["description"]) <= 200


def test_review_description_states_the_verdict(pages):
    """The review's description leads with the tool and its verdict, then the tagline."""
    found = metas(pages["review"])
    assert found["description"] == (
        "Acme: Ship (4 ship / 0 skip, mean score 78.5/100). Reviews from a backlog."
    )
    assert found["og:title"] == "Acme: Ship" and found["og:type"] == "article"
    assert metas(pages["index"])["og:type"] == "website"


def test_compare_description_is_its_headline(pages):
    """The comparison's description starts with the verdict on both tools."""
    assert metas(pages["compare"])["description"].startswith("Ship both Acme and Beta.")


def test_hostile_text_stays_inside_the_attribute(hostile, personas):
    """Model-written text in a description cannot close the attribute or add a tag."""
    html = review_html(hostile, [hostile], personas, Votes())
    tree = lxml.html.fromstring(html)
    assert tree.xpath("//script") == [] and tree.xpath("//img") == []
    assert HOSTILE_SCRIPT[:8] in metas(html)["description"]
