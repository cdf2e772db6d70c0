"""Checks each quote a persona gave against the text of the documents the run sent (pure, no API).

Anthropic's citations cannot be combined with structured output, so the verdict's schema asks for
quotes and this module checks them. The comparison forgives what copying text changes without
changing its words, and nothing else:

- Unicode NFC, so a decomposed é (e + U+0301) matches a composed one;
- case (casefold): a quote that starts mid-sentence often changes its first letter's case;
- whitespace: any run of spaces, tabs, newlines or no-break spaces is one space;
- typography: curly and straight quote marks, the dashes and the minus sign, `…` and `...`;
- invisible characters (zero-width spaces, soft hyphens) and the quote's own surrounding quote
  marks and end punctuation ("It is fast." matches "it is fast, and...").

A paraphrase, a changed word or an elision (`a ... b`) is `not found`. A quote that may come from a
document whose text the program does not have (a PDF) is `unchecked`, never `verified`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from panel.model.verdict import Evidence, Quote
from panel.sources.documents import Document
from panel.sources.text import strip_invisible_chars

# Typographic variants of one character, mapped to the ASCII one a reader would type.
_TYPOGRAPHY = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\uff07`´", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\uff02", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        "\u2026": "...",
    }
)
_SPACE = re.compile(r"\s+")
# What may surround a quote without being part of it: quote marks, end punctuation, spaces.
_EDGES = "\"' .,;:!?"
_NUMBER = re.compile(r"^\s*(?:(?:doc(?:ument)?|source|no\.?)\s*)?#?\s*(\d{1,3})\s*\.?\s*$", re.I)


@dataclass(frozen=True)
class Source:
    """One document as the check sees it: its names and its normalised text (None: a PDF)."""

    names: frozenset[str]
    text: str | None


def normalize(text: str) -> str:
    """`text` as quotes and documents are compared: see the module docstring for what is forgiven."""
    text = strip_invisible_chars(unicodedata.normalize("NFC", text)).translate(_TYPOGRAPHY)
    return _SPACE.sub(" ", text.casefold()).strip()


def sources_of(docs: Sequence[Document]) -> list[Source]:
    """The documents a run sent, as the check reads them: the same bytes the model was given."""
    return [_source(doc.title, doc.name, doc.source, doc.mime, doc.data) for doc in docs]


@functools.lru_cache(maxsize=64)
def _source(title: str, name: str, source: str, mime: str, data: bytes) -> Source:
    """One document, normalised once: the four verdicts of a review check against the same text
    (in a batch, thousands of them), and normalising a page costs more than the check itself."""
    return Source(
        names=frozenset(normalize(n) for n in (title, name, source) if n and n.strip()),
        text=normalize(data.decode("utf-8", "replace")) if mime == "text/plain" else None,
    )


def named(document: str, sources: Sequence[Source]) -> int | None:
    """The 0-based index of the document a quote names: by title (or file name, or URL), else by
    its number in order ("2", "Document 2", "#2"); None if it names none of them."""
    key = normalize(document)
    for i, source in enumerate(sources):
        if key in source.names:
            return i
    number = _NUMBER.match(document)
    if number and 1 <= int(number.group(1)) <= len(sources):
        return int(number.group(1)) - 1
    return None


def check(quote: Quote, sources: Sequence[Source]) -> Evidence:
    """One quote, checked: in the document it names first, then in any other the run sent (a
    misnamed document does not make a real quote invented)."""
    needle = normalize(quote.quote).strip(_EDGES)
    index = named(quote.document, sources)
    order = ([index] if index is not None else []) + [i for i in range(len(sources)) if i != index]
    if needle:
        for i in order:
            text = sources[i].text
            if text is not None and needle in text:
                return Evidence(
                    quote=quote.quote, document=quote.document, status="verified", document_index=i
                )
    # Only a document the quote could be in counts: the one it names, or any when it names none.
    candidates = [index] if index is not None else list(range(len(sources)))
    unread = [i for i in candidates if sources[i].text is None]
    if needle and unread:
        return Evidence(
            quote=quote.quote, document=quote.document, status="unchecked", document_index=unread[0]
        )
    return Evidence(
        quote=quote.quote, document=quote.document, status="not found", document_index=index
    )


def check_all(quotes: Sequence[Quote], docs: Sequence[Document]) -> list[Evidence]:
    """Every quote of a verdict, checked against the documents of its run."""
    sources = sources_of(docs)
    return [check(q, sources) for q in quotes]


@dataclass(frozen=True)
class Tally:
    """How many of a set of quotes the check found: `found of given`, and those it could not read."""

    given: int = 0
    verified: int = 0
    unchecked: int = 0

    @property
    def not_found(self) -> int:
        return self.given - self.verified - self.unchecked

    @property
    def share(self) -> float | None:
        """Verified quotes over the quotes that could be checked (unchecked ones left out)."""
        checked = self.given - self.unchecked
        return self.verified / checked if checked else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.given + other.given,
            self.verified + other.verified,
            self.unchecked + other.unchecked,
        )


def tally(evidence: Sequence[Evidence] | None) -> Tally:
    """The counts of one verdict's quotes (none for a record without evidence)."""
    items = list(evidence or [])
    return Tally(
        given=len(items),
        verified=sum(e.status == "verified" for e in items),
        unchecked=sum(e.status == "unchecked" for e in items),
    )


def summary(t: Tally) -> str:
    """The line a reader sees: "2 of 3 quotes found in the sources" (and what could not be read)."""
    if not t.given:
        return "No quotes given"
    noun = "quote" if t.given == 1 else "quotes"
    line = f"{t.verified} of {t.given} {noun} found in the sources"
    if t.unchecked:
        line += f", {t.unchecked} not checked (PDF)"
    return line
