"""Pages people read, rendered from stored runs: review, comparison, methodology and index pages in
HTML and Markdown, the Atom feed, and the static site. May import panel.judge and below; never batch or cli.
"""

from __future__ import annotations

from panel.pages.feed import atom_feed
from panel.pages.render import (
    compare_html,
    compare_markdown,
    index_html,
    index_markdown,
    methodology_html,
    methodology_markdown,
    review_html,
    review_markdown,
)
from panel.pages.site import SiteReport, build_site, parse_pairs

__all__ = [
    "SiteReport",
    "atom_feed",
    "build_site",
    "compare_html",
    "compare_markdown",
    "index_html",
    "index_markdown",
    "methodology_html",
    "methodology_markdown",
    "parse_pairs",
    "review_html",
    "review_markdown",
]
