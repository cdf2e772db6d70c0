"""Turn a fetched page into the document panel uploads: PDF bytes as-is, or plain text.

HTML is reduced to its main text so the panel reads the product's words, not navigation,
scripts or text a browser would never show (a favourite hiding place for prompt injection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.utils import decode_file

from panel.sources.fetch import FetchResult
from panel.sources.netguard import FetchError

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
SUPPORTED_HINT = "panel reads HTML, PDF, plain text and Markdown"

# Elements whose text is never shown to a reader.
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed")
_HIDDEN_STYLE = re.compile(r"(display\s*:\s*none|visibility\s*:\s*hidden)", re.IGNORECASE)
_MARKDOWN_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


class UnsupportedContent(FetchError):
    """The page is of a type panel does not read (images, archives, ...)."""

    def __init__(self, url: str, content_type: str) -> None:
        super().__init__(
            url, f"unsupported content type {content_type or 'unknown'} ({SUPPORTED_HINT})"
        )
        self.content_type = content_type


@dataclass(frozen=True)
class ExtractedPage:
    """A fetched page ready for upload: `data` with `mime`, plus what was read from it."""

    title: str | None
    description: str | None
    text: str
    kind: Literal["pdf", "text"]
    data: bytes
    mime: Literal["application/pdf", "text/plain"]


def _drop_invisible(root: lxml.html.HtmlElement) -> None:
    """Remove elements a browser would not render, so hidden instructions never reach a model.

    trafilatura drops `display:none` but keeps text under the `hidden` attribute.
    """
    doomed = [el for el in root.iter(*_INVISIBLE_TAGS)]
    for el in root.iter():
        if (
            not isinstance(el.tag, str)  # comments, processing instructions
            or el.get("hidden") is not None
            or el.get("aria-hidden", "").lower() == "true"
            or _HIDDEN_STYLE.search(el.get("style", ""))
        ):
            doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the tail text that follows the element


def _plain_text(root: lxml.html.HtmlElement) -> str:
    """Fallback rendering: the visible body text, one line per block."""
    body = root.find("body")
    lines = (line.strip() for line in (body if body is not None else root).itertext())
    return "\n".join(line for line in lines if line)


def _clean_meta(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None


def html_to_text(html: str, url: str | None = None) -> tuple[str | None, str | None, str]:
    """Title, meta description and main text of an HTML page (also used for local .html)."""
    try:
        root = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None, None, ""
    _drop_invisible(root)
    cleaned = lxml.html.tostring(root, encoding="unicode")
    metadata = trafilatura.extract_metadata(cleaned, default_url=url)
    title = _clean_meta(metadata.title) if metadata else None
    description = _clean_meta(metadata.description) if metadata else None
    text = trafilatura.extract(
        cleaned, url=url, favor_precision=True, include_comments=False, include_tables=True
    )
    if not text:
        text = _plain_text(root)
    return title, description, text.strip()


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return str(decode_file(body))


def _header(title: str | None, description: str | None, result: FetchResult) -> str:
    lines = [
        f"Title: {title or ''}",
        f"Description: {description or ''}",
        f"Source: {result.final_url}",
        f"Fetched: {result.fetched_at}",
    ]
    return "\n".join(lines)


def to_document_text(result: FetchResult) -> ExtractedPage:
    """The upload for a fetched page; anything but HTML, PDF, text and Markdown is refused."""
    if result.not_modified:
        raise FetchError(result.url, "not modified since the cached copy; use that instead")
    mime = result.content_type
    if mime in PDF_TYPES:
        if b"%PDF-" not in result.body[:1024]:
            raise FetchError(result.final_url, "served as application/pdf but is not a PDF")
        return ExtractedPage(None, None, "", "pdf", result.body, "application/pdf")
    if mime in TEXT_TYPES:
        text = _decode(result.body)
        heading = _MARKDOWN_TITLE.search(text) if mime != "text/plain" else None
        title = heading.group(1) if heading else None
        return ExtractedPage(title, None, text, "text", text.encode("utf-8"), "text/plain")
    if mime in HTML_TYPES:
        title, description, text = html_to_text(_decode(result.body), result.final_url)
        document = f"{_header(title, description, result)}\n\n{text}\n"
        return ExtractedPage(title, description, text, "text", document.encode(), "text/plain")
    raise UnsupportedContent(result.final_url, mime)
