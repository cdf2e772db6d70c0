"""The live site's pages: the static site's templates (panel/pages) extended with the vote form,
the bookmark button and the bookmarks page. Each function reads the store and returns HTML.

The served pages keep the static pages' policy but for two words: forms may post to this site
(`form-action 'self'`) and no site may frame them; the one script we ship runs by its hash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader
from markupsafe import Markup

from panel.errors import InputError
from panel.judge.personas import Persona
from panel.model import Run
from panel.pages import links
from panel.pages.facts import shorten
from panel.pages.feed import atom_feed
from panel.pages.overview import index_view, methodology_view
from panel.pages.render import CSP_BASE, html_env, nav, script_hash, sorter_script
from panel.pages.views import compare_view, review_view
from panel.serve.security import Challenge
from panel.store.pairs import latest_pairwise
from panel.store.sqlite import Store

BOOKMARKS = "bookmarks.html"
VOTE = "vote"
# The policy of every served page and error: the static one, with forms posting here only.
LIVE_CSP_BASE = CSP_BASE.replace("form-action 'none'", "form-action 'self'")
_COMPARE = re.compile(r"^compare/([a-z0-9][a-z0-9-]{0,63})-vs-([a-z0-9][a-z0-9-]{0,63})\.html$")
_TOOL = re.compile(r"^tools/([a-z0-9][a-z0-9-]{0,63})\.html$")


@dataclass(frozen=True)
class Reader:
    """What a page needs to know about the reader asking for it."""

    csrf: str
    voter: str | None  # the reader's id from their signed cookie, if any


@dataclass(frozen=True)
class VoteForm:
    """The ship/skip form of one tool on one page."""

    slug: str
    name: str
    tally: str
    mine: str | None
    csrf: str
    challenge: Challenge
    back: str
    action: str


@cache
def live_env() -> Environment:
    """The pages' environment (autoescape, StrictUndefined, control characters dropped) with the
    live templates first, so they can extend the static ones."""
    base = html_env()
    return base.overlay(
        loader=ChoiceLoader([PackageLoader("panel.serve", "templates"), base.loader])  # type: ignore[list-item]
    )


@cache
def live_script() -> str:
    """The served pages' script (proof of work, bookmarks), as inlined and hashed."""
    text = files("panel.serve").joinpath("templates/live.js").read_text(encoding="utf-8")
    if "</" in text:
        raise ValueError("live.js must not contain '</': it is inlined into a <script> element")
    return text


def live_csp(script: str | None) -> str:
    source = script_hash(script) if script else "'none'"
    return f"{LIVE_CSP_BASE}; script-src {source}"


def page_header_csp(script: str | None) -> str:
    """The HTTP header form of the policy: also refuses framing, which a <meta> policy cannot."""
    return f"{live_csp(script)}; frame-ancestors 'none'"


def render(
    template: str,
    page: str,
    title: str,
    script: str | None,
    *,
    description: str | None = None,
    **ctx: Any,
) -> str:
    """A live page: the static page's context (summary, Open Graph, nav), the live policy."""
    live_nav = {**nav(page), "bookmarks": links.relative(page, BOOKMARKS)}
    return (
        live_env()
        .get_template(template)
        .render(
            title=title,
            description=shorten(description or title),
            og_type="article" if page.startswith(("tools/", "compare/")) else "website",
            csp=live_csp(script),
            nav=live_nav,
            script=Markup(script) if script else None,  # our shipped file, never data
            **ctx,
        )
    )


def tool_slug(page: str) -> str | None:
    m = _TOOL.match(page)
    return m.group(1) if m else None


def compare_slugs(page: str, store: Store) -> tuple[str, str] | None:
    """The two slugs of a comparison path; slugs hold `-`, so each `-vs-` split is tried."""
    stem = page.removeprefix("compare/").removesuffix(".html")
    if not _COMPARE.match(page):
        return None
    parts = stem.split("-vs-")
    for i in range(1, len(parts)):
        a, b = "-vs-".join(parts[:i]), "-vs-".join(parts[i:])
        if a != b and store.run_ids(a) and store.run_ids(b):
            return a, b
    return None


def resolve_pairs(store: Store, pairs: Sequence[tuple[str, str]]) -> list[tuple[Run, Run]]:
    """The configured comparisons that still name two reviewed tools (others are left out)."""
    out = []
    for name_a, name_b in pairs:
        try:
            ra, rb = store.run_for(name_a), store.run_for(name_b)
        except InputError:
            continue
        if ra.tool.slug != rb.tool.slug:
            out.append((ra, rb))
    return out


def vote_form(store: Store, run: Run, page: str, reader: Reader, challenge: Challenge) -> VoteForm:
    slug = run.tool.slug
    mine = store.vote_of(slug, reader.voter) if reader.voter else None
    return VoteForm(
        slug=slug,
        name=run.tool.name,
        tally=store.votes(slug).label,
        mine=mine,
        csrf=reader.csrf,
        challenge=challenge,
        back=page,
        action=links.relative(page, VOTE),
    )


def index_page(store: Store, pairs: Sequence[tuple[str, str]]) -> str:
    problems: list[str] = []
    latest = store.readable_runs((row.run_id for row in store.tool_rows()), problems)
    v = index_view(latest, resolve_pairs(store, pairs))
    description = f"Ship or skip verdicts on software tools: {v.summary}."
    return render(
        "live_index.html", links.INDEX, "All tools", sorter_script(), description=description, v=v
    )


def methodology_page(personas: Sequence[Persona], versions: Mapping[str, int]) -> str:
    v = methodology_view(personas, versions)
    return render("live_methodology.html", links.METHODOLOGY, "Methodology", None, v=v)


def bookmarks_page() -> str:
    return render("bookmarks.html", BOOKMARKS, "Bookmarks", live_script())


def feed(store: Store, site_url: str | None) -> bytes:
    problems: list[str] = []
    latest = store.readable_runs((row.run_id for row in store.tool_rows()), problems)
    return atom_feed(latest, site_url=site_url)


def review_page(
    store: Store,
    slug: str,
    personas: Sequence[Persona],
    pairs: Sequence[tuple[str, str]],
    reader: Reader,
    challenge: Challenge,
) -> str | None:
    """A tool's page with its live tally and the reader's vote; None for an unknown tool."""
    runs = store.readable_runs(store.run_ids(slug), [])
    if not runs:
        return None
    run = runs[-1]
    page = links.tool_page(slug)
    v = review_view(run, runs, personas, store.votes(slug))
    compares = []
    for a, b in resolve_pairs(store, pairs):
        if slug in (a.tool.slug, b.tool.slug):
            href = links.relative(page, links.compare_page(a.tool.slug, b.tool.slug))
            compares.append((f"{a.tool.name} vs {b.tool.name}", href))
    form = vote_form(store, run, page, reader, challenge)
    title = f"{v.card.name}: {v.verdict.word}"
    return render(
        "live_review.html",
        page,
        title,
        live_script(),
        description=v.description,
        v=v,
        compares=compares,
        form=form,
    )


def compare_page(
    store: Store,
    a: str,
    b: str,
    personas: Sequence[Persona],
    reader: Reader,
    challenges: tuple[Challenge, Challenge],
) -> str | None:
    ra, rb = store.latest_run_id(a), store.latest_run_id(b)
    if ra is None or rb is None:
        return None
    run_a, run_b = store.load_run(ra), store.load_run(rb)
    page = links.compare_page(a, b)
    judged = latest_pairwise(store, a, b)
    v = compare_view(run_a, run_b, personas, store.votes(a), store.votes(b), judged)
    to = {k: links.relative(page, links.tool_page(s)) for k, s in (("a", a), ("b", b))}
    forms = [
        vote_form(store, run, page, reader, ch)
        for run, ch in zip((run_a, run_b), challenges, strict=True)
    ]
    description = f"{v.headline}. {v.a.description} {v.b.description}"
    return render(
        "live_compare.html",
        page,
        v.title,
        live_script(),
        description=description,
        v=v,
        links=to,
        forms=forms,
    )


def error_page(status: int, title: str, message: str, page: str, back: str = links.INDEX) -> str:
    """A readable page for a refused request at `page` (its site path, for relative links);
    `back` is the site page to return to."""
    back_href = links.relative(page or links.INDEX, back)
    return render(
        "error.html",
        page or links.INDEX,
        title,
        None,
        status=status,
        message=message,
        back=back_href,
    )
