"""A live site over a small store for the serve tests: two reviewed tools, forms read from pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxml.html

from panel.judge.personas import load_personas
from panel.serve.app import ServeSettings
from panel.serve.security import solve
from panel.store.sqlite import Store
from tests.runs import make_run, verdict

PERSONAS = ("builder", "skeptic", "founder", "futurist")
TOOLS = {"zed": ("Zed", 84), "helix": ("Helix", 41)}


def seed(store: Store) -> None:
    """Two tools reviewed: Zed (ship) and Helix (skip)."""
    for n, (slug, (name, score)) in enumerate(TOOLS.items(), start=1):
        card = {
            "name": name,
            "category": "Developer Tools",
            "tagline": f"{name} edits text.",
            "description": f"{name} is an editor.",
            "pricing_summary": "Free.",
            "pricing_model": "free",
            "best_for": "Developers.",
        }
        run = make_run(
            f"2026112{n}T130000-aaaaaa", [verdict(p, score) for p in PERSONAS], slug=slug, card=card
        )
        store.save_run(run)


def settings(home: Path, **overrides: Any) -> ServeSettings:
    base: dict[str, Any] = {
        "home": home,
        "personas": load_personas(None),
        "prompt_versions": {"system": 1},
        "pairs": [("zed", "helix")],
        "pow_bits": 4,
    }
    return ServeSettings(**(base | overrides))


def form_of(html: str, slug: str) -> dict[str, str]:
    """The hidden fields of the vote form of `slug` on a page."""
    doc = lxml.html.fromstring(html)
    (form,) = [f for f in doc.forms if f.fields.get("slug") == slug]
    return {i.name: i.value or "" for i in form.inputs if i.name and i.type == "hidden"}


def solved(fields: dict[str, str], decision: str, bits: int = 4) -> dict[str, str]:
    """The form as the page's script sends it: the proof of work solved, the decision chosen."""
    return fields | {"decision": decision, "pow_nonce": solve(fields["pow_token"], bits)}
