"""Whether a run reviews a product of the reviewing model's own vendor: a conflict of interest the
pages and the scorecard state plainly. Vendors are data (`vendors.toml`); this is a pure reading of
the run's model, the tool's name and card, and its sources' hosts.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

from panel.model import Run

_WORD = re.compile(r"[^\W_]+")
CONFLICT_LABEL = "Conflict of interest."


@dataclass(frozen=True)
class Vendor:
    name: str
    models: tuple[str, ...]
    words: frozenset[str]
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class Conflict:
    """The vendor both sides share, and what gave the tool away (its name, or a source's host)."""

    vendor: str
    model: str
    evidence: str

    @property
    def text(self) -> str:
        """What the note says after its label."""
        return (
            f"This tool comes from {self.vendor}, and the reviewers are {self.vendor}'s own "
            f"model ({self.model}). Read the verdict with that in mind."
        )

    @property
    def note(self) -> str:
        """The note every page, the feed and the scorecard print, word for word."""
        return f"{CONFLICT_LABEL} {self.text}"


@cache
def vendors() -> tuple[Vendor, ...]:
    data = tomllib.loads((files("panel") / "vendors.toml").read_text(encoding="utf-8"))
    return tuple(
        Vendor(
            v["name"],
            tuple(m.lower() for m in v["models"]),
            frozenset(w.lower() for w in v["words"]),
            tuple(h.lower() for h in v["hosts"]),
        )
        for v in data["vendors"]
    )


def name_words(name: str) -> set[str]:
    """The words of a name, lower-cased: letters and digits only ("claude-code" -> claude, code)."""
    return {w.lower() for w in _WORD.findall(name)}


def on_host(url: str, hosts: tuple[str, ...]) -> str | None:
    """The URL's host when it is one of `hosts` or a subdomain of one; else None."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    return host if any(host == h or host.endswith("." + h) for h in hosts) else None


def model_vendor(model: str) -> Vendor | None:
    model = model.lower()
    return next((v for v in vendors() if model.startswith(v.models)), None)


def conflict(run: Run) -> Conflict | None:
    """The conflict of `run`, or None: the tool's vendor is the vendor of the model that judged it."""
    vendor = model_vendor(run.model)
    if vendor is None:
        return None
    names = [run.tool.name] + ([run.tool.card.name] if run.tool.card else [])
    for name in names:
        if name_words(name) & vendor.words:
            return Conflict(vendor.name, run.model, f"the name {name!r}")
    for doc in run.documents:
        url = doc.fetch.final_url if doc.fetch else doc.source
        host = on_host(url, vendor.hosts) if doc.origin == "url" else None
        if host:
            return Conflict(vendor.name, run.model, f"a source on {host}")
    return None
