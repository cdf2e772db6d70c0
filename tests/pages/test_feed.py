"""The Atom feed parses, has one entry per tool, and is stable across builds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from panel.pages import atom_feed

ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_parses_with_one_entry_per_tool(acme, beta, hostile):
    """Each latest run is one entry, newest first, titled with the panel label."""
    root = ET.fromstring(atom_feed([acme, beta, hostile]))
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    assert entries[0].findtext(f"{ATOM}title") == "Beta: Ship · 3 ship / 1 skip"
    assert "<img src=x onerror=alert(1)>" in entries[1].findtext(f"{ATOM}title")


def test_dates_come_from_runs(acme, beta):
    """Entry updated is its run's created_at; the feed's updated is the newest run's."""
    root = ET.fromstring(atom_feed([acme, beta]))
    assert root.findtext(f"{ATOM}updated") == "2026-11-26T10:00:00+00:00"
    updated = [e.findtext(f"{ATOM}updated") for e in root.findall(f"{ATOM}entry")]
    assert updated == ["2026-11-26T10:00:00+00:00", "2026-11-25T13:00:00+00:00"]


def test_feed_is_byte_stable(acme, beta):
    """Two renders of the same runs are identical bytes: no build timestamp."""
    assert atom_feed([acme, beta]) == atom_feed([beta, acme])


def test_entry_links_to_review_page(acme):
    """An entry links to its review page, absolute when the site URL is known."""
    root = ET.fromstring(atom_feed([acme], site_url="https://reviews.example/"))
    link = root.find(f"{ATOM}entry/{ATOM}link")
    assert link is not None and link.get("href") == "https://reviews.example/tools/acme.html"


def test_entry_text_keeps_tagline_and_label_apart(acme):
    """The summary is the verdict sentence, then the tagline as its own sentence (regression: the
    tagline ran into the label, "Reviews from a backlog. Ship · 4 ship / 0 skip")."""
    root = ET.fromstring(atom_feed([acme]))
    summary = root.findtext(f"{ATOM}entry/{ATOM}summary")
    assert summary == "Ship: 4 ship / 0 skip, mean score 78.5/100. Reviews from a backlog."


def test_entry_text_ends_a_tagline_without_a_stop(beta):
    """A tagline with no full stop still ends as a sentence before anything follows it."""
    run = beta.model_copy(
        update={
            "tool": beta.tool.model_copy(
                update={"card": beta.tool.card.model_copy(update={"tagline": "Runs on phones"})}
            )
        }
    )
    summary = ET.fromstring(atom_feed([run])).findtext(f"{ATOM}entry/{ATOM}summary")
    assert summary.endswith("mean score 69.8/100. Runs on phones.")
