"""Pages as strings: each function takes stored records and returns one HTML or Markdown page.

HTML templates autoescape everything; the only markup inserted raw is the sorter script, a file we
ship, whose hash the Content-Security-Policy names so no other script can run. Markdown templates
have their own environment without autoescape and escape each value with Markdown's own rules.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from panel.config import DEFAULT_QUORUM, DEFAULT_SHIP_THRESHOLD
from panel.judge.personas import Persona
from panel.model import Pairwise, Run, Votes
from panel.pages import links
from panel.pages.escaping import md_cell, md_text, without_controls
from panel.pages.facts import shorten
from panel.pages.overview import index_view, methodology_view
from panel.pages.views import compare_view, review_view

CSP_BASE = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


@cache
def html_env() -> Environment:
    return Environment(
        loader=PackageLoader("panel.pages", "templates"),
        autoescape=select_autoescape(["html"], default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=without_controls,  # every value printed, before it is escaped
    )


@cache
def markdown_env() -> Environment:
    env = Environment(
        loader=PackageLoader("panel.pages", "templates"),
        autoescape=False,  # Markdown, not HTML: values go through the md/cell filters instead
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=without_controls,
    )
    env.filters.update(md=md_text, cell=md_cell, mdurl=links.markdown_url)
    return env


@cache
def sorter_script() -> str:
    """The index's table sorter, exactly as it goes between <script> tags (and into the hash)."""
    text = files("panel.pages").joinpath("templates/sorter.js").read_text(encoding="utf-8")
    if "</" in text:
        raise ValueError("sorter.js must not contain '</': it is inlined into a <script> element")
    return text


def script_hash(script: str) -> str:
    """The CSP source for one inline script: `'sha256-<base64 digest>'`."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def csp(script: str | None) -> str:
    """The page's policy: nothing loads from anywhere; the one script we ship runs by its hash."""
    source = script_hash(script) if script else "'none'"
    return f"{CSP_BASE}; script-src {source}"


def nav(page: str) -> dict[str, str]:
    """The site-wide links as seen from `page` (pages in tools/ and compare/ go up one level)."""
    return {
        "index": links.relative(page, links.INDEX),
        "methodology": links.relative(page, links.METHODOLOGY),
        "feed": links.relative(page, links.FEED),
    }


def html_page(
    template: str,
    page: str,
    title: str,
    script: str | None = None,
    *,
    description: str,
    **ctx: Any,
) -> str:
    """A page with its title, summary (meta description and Open Graph), policy and nav."""
    return (
        html_env()
        .get_template(template)
        .render(
            title=title,
            description=description,
            og_type="article" if page.startswith(("tools/", "compare/")) else "website",
            csp=csp(script),
            nav=nav(page),
            script=Markup(script) if script else None,  # our shipped file, never data
            **ctx,
        )
    )


def markdown_page(template: str, page: str, **ctx: Any) -> str:
    return markdown_env().get_template(template).render(nav=nav(page), **ctx)


def _compares(page: str, run: Run, pairs: Sequence[tuple[Run, Run]]) -> list[tuple[str, str]]:
    """The comparisons a tool's page links to: every pair it is part of."""
    out = []
    for a, b in pairs:
        if run.tool.slug in (a.tool.slug, b.tool.slug):
            title = f"{a.tool.name} vs {b.tool.name}"
            out.append((title, links.relative(page, links.compare_page(a.tool.slug, b.tool.slug))))
    return out


def review_html(
    run: Run,
    runs: Sequence[Run],
    personas: Sequence[Persona],
    votes: Votes,
    pairs: Sequence[tuple[Run, Run]] = (),
) -> str:
    """A tool's review page; `runs` are its runs oldest first, for the score history."""
    page = links.tool_page(run.tool.slug)
    v = review_view(run, runs, personas, votes)
    title = f"{v.card.name}: {v.verdict.word}"
    return html_page(
        "review.html",
        page,
        title,
        description=v.description,
        v=v,
        compares=_compares(page, run, pairs),
    )


def review_markdown(
    run: Run,
    runs: Sequence[Run],
    personas: Sequence[Persona],
    votes: Votes,
    pairs: Sequence[tuple[Run, Run]] = (),
) -> str:
    page = links.tool_page(run.tool.slug)
    v = review_view(run, runs, personas, votes)
    return markdown_page("review.md", page, v=v, compares=_compares(page, run, pairs))


def _compare_links(a: Run, b: Run) -> tuple[str, dict[str, str]]:
    page = links.compare_page(a.tool.slug, b.tool.slug)
    to = {"a": links.tool_page(a.tool.slug), "b": links.tool_page(b.tool.slug)}
    return page, {k: links.relative(page, p) for k, p in to.items()}


def compare_html(
    a: Run,
    b: Run,
    personas: Sequence[Persona],
    votes_a: Votes,
    votes_b: Votes,
    pairwise: Pairwise | None = None,
) -> str:
    """The side-by-side page of two tools' latest runs."""
    page, to = _compare_links(a, b)
    v = compare_view(a, b, personas, votes_a, votes_b, pairwise)
    description = f"{v.headline}. {v.a.description} {v.b.description}"
    return html_page("compare.html", page, v.title, description=shorten(description), v=v, links=to)


def compare_markdown(
    a: Run,
    b: Run,
    personas: Sequence[Persona],
    votes_a: Votes,
    votes_b: Votes,
    pairwise: Pairwise | None = None,
) -> str:
    page, to = _compare_links(a, b)
    v = compare_view(a, b, personas, votes_a, votes_b, pairwise)
    return markdown_page("compare.md", page, v=v, links=to)


def methodology_html(
    personas: Sequence[Persona],
    prompt_versions: Mapping[str, int],
    *,
    threshold: float = DEFAULT_SHIP_THRESHOLD,
    quorum: int = DEFAULT_QUORUM,
) -> str:
    """Who the reviewers are and how the panel decides, from the persona files themselves."""
    v = methodology_view(personas, prompt_versions, threshold=threshold, quorum=quorum)
    description = (
        f"How the panel reviews software tools: {len(v.reviewers)} reviewers, each with one lens, "
        "and the fixed rules that turn their answers into ship or skip."
    )
    return html_page(
        "methodology.html", links.METHODOLOGY, "Methodology", description=description, v=v
    )


def methodology_markdown(
    personas: Sequence[Persona],
    prompt_versions: Mapping[str, int],
    *,
    threshold: float = DEFAULT_SHIP_THRESHOLD,
    quorum: int = DEFAULT_QUORUM,
) -> str:
    v = methodology_view(personas, prompt_versions, threshold=threshold, quorum=quorum)
    return markdown_page("methodology.md", links.METHODOLOGY, v=v)


def index_html(runs: Sequence[Run], pairs: Sequence[tuple[Run, Run]] = ()) -> str:
    """Every tool's latest verdict in a sortable, filterable table; the only page with a script."""
    v = index_view(runs, pairs)
    return html_page(
        "index.html",
        links.INDEX,
        "All tools",
        script=sorter_script(),
        description=shorten(f"Ship or skip verdicts on software tools: {v.summary}."),
        v=v,
    )


def index_markdown(runs: Sequence[Run], pairs: Sequence[tuple[Run, Run]] = ()) -> str:
    return markdown_page("index.md", links.INDEX, v=index_view(runs, pairs))
