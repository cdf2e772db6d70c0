"""The static site: every page rendered from the store, published whole, re-rendering only what changed.

Output is a pure function of the stored runs, votes, personas and prompt versions (no build time
anywhere). Each page's inputs are fingerprinted (`manifest`): a page whose fingerprint is the one
the published build recorded is carried over without reading its records, so a rebuild of an
unchanged store reads no record at all. The new build is written beside the old one and swapped in
at once (`publish`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from panel.errors import InputError
from panel.judge.personas import Persona
from panel.model import Pairwise, Run
from panel.pages import links, publish, render
from panel.pages.feed import atom_feed
from panel.pages.manifest import Entry, fingerprints, load_manifest, manifest_json
from panel.store.catalog import Catalog, catalog
from panel.store.pairs import latest_pairwise
from panel.store.records import BadRecord
from panel.store.sqlite import Store

# `vs` (or `vs.`) between two names: a word of its own, with a name on each side, so the `VS` of
# `VS Code` at the start of a line is part of the name.
_VS = re.compile(r"(?<=\s)vs\.?(?=\s)", re.IGNORECASE)
# A `vs` that ends the line has no name after it (`Acme vs`): a line missing its second tool.
_DANGLING_VS = re.compile(r"\svs\.?$", re.IGNORECASE)


@dataclass
class SiteReport:
    """What a build did: site-relative paths written (new or changed) and left as they were;
    `rendered` are the pages whose inputs changed (the others were carried over unread)."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # unreadable records, left out
    rendered: list[str] = field(default_factory=list)

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
        if _DANGLING_VS.search(line):
            names = []
        elif _VS.search(line):
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


def build_site(
    store: Store,
    outdir: Path,
    personas: Sequence[Persona],
    prompt_versions: Mapping[str, int],
    pairs: Sequence[tuple[str, str]],
    *,
    site_url: str | None = None,
) -> SiteReport:
    """Build the site at `outdir`: index, tools/, compare/, methodology and feed.

    Pairs are checked before anything is written, and the new build replaces the old one only
    once it is complete, so a bad pair or an interruption leaves the old site as it was.
    """
    publish.check_target(outdir)
    cat = catalog(store)
    resolved = resolve_pairs(store, cat, pairs)
    judged = [latest_pairwise(store, a.tool.slug, b.tool.slug) for a, b in resolved]
    fps = fingerprints(
        cat,
        personas,
        prompt_versions,
        [(a.run_id, b.run_id) for a, b in resolved],
        site_url,
        [j.pair_id if j is not None else "" for j in judged],
    )
    with publish.locked(outdir) as builds:
        current = publish.current_build(outdir)
        old = load_manifest(current) if current is not None and current != outdir else {}
        same = {rel for rel, fp in fps.items() if _kept(old.get(rel), fp, current, rel)}
        report = SiteReport()
        if same == set(fps) and set(old) == set(fps):
            for rel in sorted(fps):
                if old[rel].size:
                    report.unchanged.append(rel)
                report.problems += old[rel].problems
            publish.tidy(outdir, builds)
            return report
        staged = publish.staging(builds)
        pages = _Renderer(store, cat, personas, prompt_versions, resolved, site_url, judged)
        entries: dict[str, Entry] = {}
        for rel in sorted(fps):
            if rel in same:
                assert current is not None
                entries[rel] = old[rel]
                if old[rel].size:
                    publish.carry(current / rel, staged / rel)
                    report.unchanged.append(rel)
                report.problems += old[rel].problems
                continue
            data, problems = pages.render(rel)
            report.rendered.append(rel)
            entries[rel] = Entry(fps[rel], len(data) if data is not None else 0, problems)
            report.problems += problems
            if data is None:
                continue
            before = current / rel if current is not None else None
            if before is not None and before.is_file() and before.read_bytes() == data:
                publish.carry(before, staged / rel)  # re-rendered to the same bytes: kept as is
                report.unchanged.append(rel)
            else:
                publish.put(staged / rel, data)
                report.written.append(rel)
        publish.publish(outdir, staged, manifest_json(entries))
        publish.tidy(outdir, builds)
    return report


def _kept(entry: Entry | None, fp: str, current: Path | None, rel: str) -> bool:
    """Whether the published page can be carried over: same inputs, and still there as built."""
    if entry is None or entry.fp != fp or current is None:
        return False
    if not entry.size:
        return True
    try:
        return (current / rel).stat().st_size == entry.size
    except OSError:
        return False


def resolve_pairs(
    store: Store, cat: Catalog, pairs: Sequence[tuple[str, str]]
) -> list[tuple[Run, Run]]:
    """Each pair's two runs; an unknown tool, or one tool twice, is an InputError."""
    return [pair_runs(store, name_a, name_b) for name_a, name_b in pairs]


def pair_runs(store: Store, name_a: str, name_b: str) -> tuple[Run, Run]:
    """The latest runs of a comparison's two tools; an unknown tool, or one tool twice, is an
    InputError that names the comparison, so the user knows which line of the pairs file it is."""
    try:
        ra, rb = store.run_for(name_a), store.run_for(name_b)
    except InputError as exc:
        raise InputError(f"comparison {name_a!r} vs {name_b!r}: {exc}") from exc
    if ra.tool.slug == rb.tool.slug:
        raise InputError(f"comparison {name_a!r} vs {name_b!r}: both name the same tool")
    return ra, rb


class _Renderer:
    """Renders one page at a time, reading each record at most once and only when a page that
    shows it is rendered."""

    def __init__(
        self,
        store: Store,
        cat: Catalog,
        personas: Sequence[Persona],
        prompt_versions: Mapping[str, int],
        pairs: list[tuple[Run, Run]],
        site_url: str | None,
        judged: Sequence[Pairwise | None],
    ) -> None:
        self.store, self.cat, self.personas = store, cat, personas
        self.prompt_versions, self.pairs, self.site_url = prompt_versions, pairs, site_url
        self.tool_of = {links.tool_page(slug): slug for slug in cat.order}
        self.compare_of = {
            links.compare_page(a.tool.slug, b.tool.slug): (a, b, j)
            for (a, b), j in zip(pairs, judged, strict=True)
        }
        self._latest: list[Run] | None = None
        self._by_id: dict[str, Run] = {}  # the latest runs, once read for the index or feed

    def render(self, rel: str) -> tuple[bytes | None, list[str]]:
        """A page's bytes (None: not published) and the problems its records had."""
        pages: dict[str, Callable[[], str | bytes]] = {
            links.INDEX: lambda: render.index_html(self.latest(), self.pairs),
            links.METHODOLOGY: lambda: render.methodology_html(self.personas, self.prompt_versions),
            links.FEED: lambda: atom_feed(self.latest(), site_url=self.site_url),
        }
        if rel in self.tool_of:
            return self.tool(self.tool_of[rel])
        if rel in self.compare_of:
            a, b, judged = self.compare_of[rel]
            votes_a, votes_b = self.cat.votes_of(a.tool.slug), self.cat.votes_of(b.tool.slug)
            page = render.compare_html(a, b, self.personas, votes_a, votes_b, judged)
            return _bytes(page), []
        return _bytes(pages[rel]()), []

    def tool(self, slug: str) -> tuple[bytes | None, list[str]]:
        """A tool's review page from all its readable runs; none when its latest is unreadable."""
        problems: list[str] = []
        ids = self.cat.runs[slug]
        known = self._by_id
        runs: list[Run] = []
        for run_id in ids:
            if run_id in known:
                runs.append(known[run_id])
            else:
                runs += self.store.readable_runs([run_id], problems)
        if not runs or runs[-1].run_id != ids[-1]:
            return None, problems
        votes = self.cat.votes_of(slug)
        page = render.review_html(runs[-1], runs, self.personas, votes, self.pairs)
        return _bytes(page), problems

    def latest(self) -> list[Run]:
        """Each tool's latest run, most recently reviewed first; an unreadable one is left out
        (its tool's page names the problem)."""
        if self._latest is None:
            self._latest = []
            for slug in self.cat.order:
                try:
                    self._latest.append(self.store.load_run(self.cat.runs[slug][-1]))
                except BadRecord:
                    continue
            self._by_id = {run.run_id: run for run in self._latest}
        return self._latest


def _bytes(page: str | bytes) -> bytes:
    return page if isinstance(page, bytes) else page.encode("utf-8")
