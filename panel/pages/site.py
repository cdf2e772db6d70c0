"""The static site: every page rendered from the store into a directory, rewriting only what changed.

Output is a pure function of the stored runs, votes, personas and prompt versions (no build time
anywhere), so a second build of an unchanged store writes nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from panel.errors import InputError
from panel.judge.personas import Persona
from panel.model import Run
from panel.pages import links, render
from panel.pages.feed import atom_feed
from panel.store.sqlite import Store

# `vs` (or `vs.`) between two names: a word of its own, with a name on each side, so the `VS` of
# `VS Code` at the start of a line is part of the name.
_VS = re.compile(r"(?<=\s)vs\.?(?=\s)", re.IGNORECASE)


@dataclass
class SiteReport:
    """What a build did: site-relative paths written (new or changed) and left as they were."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # unreadable records, left out

    @property
    def total(self) -> int:
        return len(self.written) + len(self.unchanged)


def parse_pairs(path: Path) -> list[tuple[str, str]]:
    """Comparison pairs, two tool names a line: `A vs B`, `A, B` or `A B`; `#` lines are comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"pairs file {path}: cannot read it ({exc})") from exc
    pairs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _VS.search(line):
            names = split_vs(line)
        elif "," in line:
            names = line.split(",")
        else:
            names = line.split()
        names = [n.strip() for n in names]
        if len(names) != 2 or not all(names):
            raise InputError(
                f"pairs file {path}, line {number}: expected two tool names "
                f"('A vs B', 'A, B' or 'A B'), got {line!r}"
            )
        pairs.append((names[0], names[1]))
    return pairs


def split_vs(line: str) -> list[str]:
    """`A vs B` as [A, B]. A name may hold the word itself (`VS Code vs Acme`, `Acme vs VS
    Code`): a lower-case `vs` is the separator before any other case; two of one kind are
    ambiguous and left unsplit (the caller asks for `A, B`)."""
    found = list(_VS.finditer(line))
    lower = [m for m in found if m.group().startswith("vs")]
    for candidates in (lower, found):
        if len(candidates) == 1:
            m = candidates[0]
            return [line[: m.start()], line[m.end() :]]
        if candidates:
            break
    return [line]


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` atomically unless `path` already holds exactly these bytes; True if written."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def site_pages(
    store: Store,
    personas: Sequence[Persona],
    prompt_versions: Mapping[str, int],
    pairs: Sequence[tuple[str, str]],
    *,
    site_url: str | None = None,
    problems: list[str] | None = None,
) -> dict[str, bytes]:
    """Every file of the site by its site-relative path; an unknown tool in a pair is an InputError."""
    problems = [] if problems is None else problems
    latest = store.readable_runs((row.run_id for row in store.tool_rows()), problems)
    resolved: list[tuple[Run, Run]] = []
    for name_a, name_b in pairs:
        ra, rb = store.run_for(name_a), store.run_for(name_b)
        if ra.tool.slug == rb.tool.slug:
            raise InputError(f"comparison {name_a!r} vs {name_b!r}: both name the same tool")
        resolved.append((ra, rb))
    pages: dict[str, str | bytes] = {
        links.INDEX: render.index_html(latest, resolved),
        links.METHODOLOGY: render.methodology_html(personas, prompt_versions),
        links.FEED: atom_feed(latest, site_url=site_url),
    }
    for run in latest:
        runs = store.readable_runs(store.run_ids(run.tool.slug), problems)
        votes = store.votes(run.tool.slug)
        pages[links.tool_page(run.tool.slug)] = render.review_html(
            run, runs, personas, votes, resolved
        )
    for ra, rb in resolved:
        pages[links.compare_page(ra.tool.slug, rb.tool.slug)] = render.compare_html(
            ra, rb, personas, store.votes(ra.tool.slug), store.votes(rb.tool.slug)
        )
    return {p: v if isinstance(v, bytes) else v.encode("utf-8") for p, v in pages.items()}


def build_site(
    store: Store,
    outdir: Path,
    personas: Sequence[Persona],
    prompt_versions: Mapping[str, int],
    pairs: Sequence[tuple[str, str]],
    *,
    site_url: str | None = None,
) -> SiteReport:
    """Render the site into `outdir`: index, tools/, compare/, methodology and feed.

    Everything is rendered before anything is written, so a bad pair leaves the old site intact.
    """
    report = SiteReport()
    pages = site_pages(
        store, personas, prompt_versions, pairs, site_url=site_url, problems=report.problems
    )
    for rel, data in sorted(pages.items()):
        changed = write_if_changed(outdir / rel, data)
        (report.written if changed else report.unchanged).append(rel)
    return report
