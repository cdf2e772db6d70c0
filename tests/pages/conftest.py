"""Runs, personas and an HTML reader for the page tests.

No `__init__.py` here: `tests/pages.py` (the test web site) already owns the name `tests.pages`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from panel.judge.personas import Persona, load_personas
from panel.model import DocumentRef, FetchInfo, Run, VerdictRecord
from tests.runs import CARD, doc, make_run, verdict

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE = f"Looks fine {HOSTILE_SCRIPT} and {HOSTILE_IMG} really"


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class Page(HTMLParser):
    """A page parsed back with the stdlib parser: its elements, its script bodies and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.scripts: list[str] = []
        self.chunks: list[str] = []
        self._in_script = False
        self._skip = 0  # inside <style> or <title>: not part of the page's visible text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        elif tag in ("style", "title"):
            self._skip += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        elif tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        elif not self._skip:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        """The visible text with whitespace collapsed, as a reader sees it."""
        return re.sub(r"\s+", " ", " ".join(self.chunks))

    def tags(self, name: str) -> list[Element]:
        return [e for e in self.elements if e.tag == name]

    def csp(self) -> str:
        metas = [
            m for m in self.tags("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"
        ]
        assert len(metas) == 1
        return metas[0].attrs["content"]


def parse_html(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture
def parse() -> Callable[[str], Page]:
    """Parse an HTML page back into elements and text."""
    return parse_html


@pytest.fixture
def panel_of_four() -> Callable[..., list[VerdictRecord]]:
    """Builds the four personas' verdicts from four scores (None = a failed verdict)."""
    return four


@pytest.fixture
def personas() -> list[Persona]:
    """The built-in panel: Builder, Skeptic, Founder, Futurist."""
    return load_personas()


def four(
    scores: tuple[int | None, ...] = (82, 74, 78, 80), rationale: str = "Fine."
) -> list[VerdictRecord]:
    ids = ("builder", "skeptic", "founder", "futurist")
    return [verdict(pid, s, f"{pid} says: {rationale}") for pid, s in zip(ids, scores, strict=True)]


def url_doc(url: str, title: str = "Product page") -> DocumentRef:
    fetch = FetchInfo(url=url, final_url=url, status=200, sha256="u1", fetched_at="2026-11-25")
    return DocumentRef(
        name=title,
        title=title,
        mime="text/html",
        origin="url",
        source=url,
        size_bytes=10,
        sha256="u1",
        file_id="file_u1",
        fetch=fetch,
    )


@pytest.fixture
def acme() -> Run:
    """A unanimous ship: 82/74/78/80, one http source and one file."""
    return make_run(
        "r-acme-2", four(), [url_doc("https://acme.example/product"), doc("notes.md", "n1")]
    )


@pytest.fixture
def acme_history(acme: Run) -> list[Run]:
    """Two runs of Acme, oldest first; the founder failed in the first."""
    first = make_run("r-acme-1", four((70, 60, None, 75)), created_at="2026-10-01T09:00:00+00:00")
    return [first, acme]


@pytest.fixture
def beta() -> Run:
    """A second tool, open source, with a skip from the Skeptic."""
    card = {
        **CARD,
        "name": "Beta",
        "pricing_model": "open source",
        "pricing_summary": "Apache 2.0",
        "best_for": "Hobbyists.",
        "category": "Vision Models",
        "tagline": "Runs on phones.",
    }
    return make_run(
        "r-beta-1",
        four((85, 40, 72, 82)),
        slug="beta",
        card=card,
        created_at="2026-11-26T10:00:00+00:00",
    )


@pytest.fixture
def hostile() -> Run:
    """Model-written and fetched text that tries to become markup, and a javascript: source."""
    card = {
        **CARD,
        "name": f"Evil {HOSTILE_IMG}",
        "tagline": HOSTILE,
        "description": HOSTILE,
        "category": f'Cat" onmouseover="alert(1) {HOSTILE_SCRIPT}',
        "best_for": HOSTILE,
        "pricing_summary": HOSTILE,
    }
    verdicts = four(rationale=HOSTILE)
    verdicts[0] = verdicts[0].model_copy(
        update={"injection_suspected": True, "injection_evidence": HOSTILE_SCRIPT}
    )
    docs = [url_doc("javascript:alert(1)", title=HOSTILE), url_doc("JaVaScRiPt:alert(2)")]
    return make_run("r-evil-1", verdicts, docs, slug="evil", card=card)
