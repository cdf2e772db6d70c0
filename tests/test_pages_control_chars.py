"""Control characters in what a model wrote or a page said: no page, feed or Markdown file carries
them, and one of them in one run does not stop the site (the feed's XML refuses them)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from panel.judge.personas import load_personas
from panel.model import Run
from panel.model.votes import Votes
from panel.pages.feed import atom_feed
from panel.pages.render import index_html, index_markdown, review_html, review_markdown
from tests.runs import CARD, make_run, verdict

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
NASTY = "Bell\x07Tool \x1b[2J\x1b]0;owned\x07 \u202eevil\x0b\x00"


def hostile_run() -> Run:
    card = {**CARD, "name": NASTY, "tagline": NASTY, "category": "Dev\x0bTools"}
    verdicts = [
        verdict(p, 70, rationale=f"Fine {NASTY}") for p in ("builder", "skeptic", "founder")
    ]
    return make_run("r1", verdicts, slug="bell-tool", card=card)


def test_no_page_carries_a_control_character() -> None:
    run = hostile_run()
    personas = load_personas()
    pages = [
        review_html(run, [run], personas, Votes()),
        review_markdown(run, [run], personas, Votes()),
        index_html([run]),
        index_markdown([run]),
    ]
    for page in pages:
        assert not CONTROL.search(page)
        assert "BellTool" in page and "[2J" in page  # the text stays, its controls go


def test_the_feed_is_xml_with_a_control_character_in_a_run() -> None:
    feed = atom_feed([hostile_run()])
    root = ET.fromstring(feed)
    titles = [e.text or "" for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert any(t.startswith("BellTool") for t in titles)
    assert not CONTROL.search(feed.decode())
