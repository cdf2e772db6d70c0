"""What each page of the site is made from, as a fingerprint, and the manifest that keeps them.

A page is re-rendered only when its fingerprint changes. A fingerprint covers everything the page
shows: the code and templates that render it (a hash of this package's files and panel's version),
the personas, and for each page its own inputs (a record is its run id and the stamp of its file):

- a tool's page: every run of the tool, its votes, and the runs of the comparisons it links to;
- a comparison: its two runs and both tools' votes;
- the index: each tool's latest run, in order, and the comparisons' runs;
- the feed: each tool's latest run and the site URL;
- the methodology: the prompt versions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from panel.config import VERSION
from panel.judge.personas import Persona
from panel.pages import links
from panel.store.catalog import Catalog

# Bumped when what a manifest holds changes: an older manifest is then ignored (a full render).
MANIFEST_VERSION = 1


@dataclass
class Entry:
    """One page as the last build left it: its fingerprint, its size (0: no file, e.g. a tool
    left out because its latest record is unreadable) and the problems its records had."""

    fp: str
    size: int = 0
    problems: list[str] = field(default_factory=list)


def digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


@cache
def code_hash() -> str:
    """The rendering code itself: every module and template of panel.pages, and panel's version,
    so an upgrade (or an edited template) re-renders what it may have changed."""
    h = hashlib.sha256(VERSION.encode("utf-8"))
    root = files("panel.pages")
    for name in sorted(_names(root)):
        h.update(name.encode("utf-8") + b"\0" + root.joinpath(name).read_bytes() + b"\0")
    return h.hexdigest()


def _names(root: Any, prefix: str = "") -> list[str]:
    out = []
    for item in root.iterdir():
        rel = f"{prefix}{item.name}"
        if item.is_dir():
            if item.name != "__pycache__":
                out += _names(item, rel + "/")
        elif item.name.endswith((".py", ".html", ".md", ".js", ".css", ".xml")):
            out.append(rel)
    return out


def fingerprints(
    cat: Catalog,
    personas: Sequence[Persona],
    prompt_versions: Mapping[str, int],
    pairs: Sequence[tuple[str, str]],
    site_url: str | None,
    judged: Sequence[str] = (),
) -> dict[str, str]:
    """Every page's fingerprint by its site-relative path; `pairs` are run ids, and `judged` the
    id of each pair's latest stored pairwise verdict ("" for none)."""
    base = digest(MANIFEST_VERSION, code_hash(), [p.model_dump(mode="json") for p in personas])
    listing = [(slug, cat.stamped(cat.runs[slug][-1])) for slug in cat.order]
    pair_runs = [(cat.stamped(a), cat.stamped(b)) for a, b in pairs]
    fps = {
        links.INDEX: digest(base, "index", listing, pair_runs),
        links.FEED: digest(base, "feed", listing, site_url),
        links.METHODOLOGY: digest(base, "methodology", sorted(prompt_versions.items())),
    }
    linked: dict[str, list[tuple[str, str]]] = {}
    verdicts = list(judged) or [""] * len(pairs)
    for (a, b), stamped, verdict in zip(pairs, pair_runs, verdicts, strict=True):
        sa, sb = cat.slug_of[a], cat.slug_of[b]
        for slug in (sa, sb):
            linked.setdefault(slug, []).append(stamped)
        both = (cat.votes_of(sa).model_dump(), cat.votes_of(sb).model_dump())
        fps[links.compare_page(sa, sb)] = digest(base, "compare", stamped, both, verdict)
    for slug in cat.order:
        runs = [cat.stamped(r) for r in cat.runs[slug]]
        votes = cat.votes_of(slug).model_dump()
        fps[links.tool_page(slug)] = digest(base, "tool", runs, votes, linked.get(slug, []))
    return fps


def manifest_path(build: Path) -> Path:
    """A build's manifest sits beside it, not inside: it names local record paths in problems."""
    return build.with_name(build.name + ".json")


def load_manifest(build: Path | None) -> dict[str, Entry]:
    """The pages of the build in `build`; empty (render everything) when there is none or it is
    unreadable, or from another manifest version."""
    if build is None:
        return {}
    try:
        data = json.loads(manifest_path(build).read_text(encoding="utf-8"))
        if data.get("version") != MANIFEST_VERSION:
            return {}
        return {rel: Entry(**entry) for rel, entry in data["pages"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def manifest_json(pages: Mapping[str, Entry]) -> str:
    entries = {rel: vars(entry) for rel, entry in sorted(pages.items())}
    return json.dumps({"version": MANIFEST_VERSION, "pages": entries}, indent=1) + "\n"
