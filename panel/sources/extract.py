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
from panel.sources.text import strip_invisible_chars

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
SUPPORTED_HINT = "panel reads HTML, PDF, plain text and Markdown"

# Elements whose text is never shown to a reader.
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed")
# Class names the common CSS frameworks use for "screen readers only" (Bootstrap, Tailwind,
# WordPress, Drupal, HTML5 Boilerplate). Not `hidden`/`d-none`: `hidden md:block` shows on desktop.
_HIDDEN_CLASSES = frozenset(
    {
        "sr-only",
        "visually-hidden",
        "visuallyhidden",
        "screen-reader-text",
        "screen-reader-only",
        "element-invisible",
        "a11y-hidden",
    }
)
# A negative offset this large (in px) puts an element's text off the page.
_OFF_SCREEN_PX = -999.0
_LENGTH = re.compile(r"^\s*(-?\d*\.?\d+)\s*(px|em|rem|pt|pc|in|cm|mm|vw|vh|%)?\s*$")
_PX_PER_UNIT = {"px": 1, "em": 16, "rem": 16, "pt": 4 / 3, "pc": 16, "in": 96, "cm": 37.8}
_PX_PER_UNIT |= {
    "mm": 3.78,
    "vw": 19.2,
    "vh": 10.8,
    "%": 10.0,
    "": 1,
}  # rough: sign and size matter
_NAMED_COLORS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "snow": (255, 250, 250),
    "ivory": (255, 255, 240),
    "ghostwhite": (248, 248, 255),
    "whitesmoke": (245, 245, 245),
    "black": (0, 0, 0),
    "silver": (192, 192, 192),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
}
_HEX_COLOR = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
_RGB_COLOR = re.compile(r"rgba?\(([\d.%]+)[\s,]+([\d.%]+)[\s,]+([\d.%]+)\s*(?:[,/]\s*([\d.%]+))?\)")
# Text whose colour is this close to its background (WCAG contrast ratio) cannot be read.
_MIN_CONTRAST = 1.1
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


def _style(el: lxml.html.HtmlElement) -> dict[str, str]:
    """An element's inline declarations, lower-cased; the last of each property wins."""
    declarations: dict[str, str] = {}
    for declaration in el.get("style", "").split(";"):
        prop, sep, value = declaration.partition(":")
        if sep:
            value = value.replace("!important", "")
            declarations[prop.strip().lower()] = " ".join(value.lower().split())
    return declarations


def _px(value: str | None) -> float | None:
    """A CSS length in rough pixels, or None when it is not a plain length (`auto`, `calc()`)."""
    match = _LENGTH.match(value or "")
    if match is None:
        return None
    return float(match.group(1)) * _PX_PER_UNIT[match.group(2) or ""]


def _amount(text: str, scale: float) -> float | None:
    """A CSS number, a percentage of `scale` when it ends in `%`; None when it is not one."""
    text = text.strip()
    try:
        return float(text[:-1]) * scale / 100 if text.endswith("%") else float(text)
    except ValueError:
        return None


Color = tuple[float, float, float, float]  # red, green, blue (0-255) and alpha (0-1)


def _color(value: str | None) -> Color | None:
    """A CSS colour, or None when it cannot be known from the text (`var()`, `inherit`, ...)."""
    value = (value or "").strip().lower()
    if value == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    if value in _NAMED_COLORS:
        red, green, blue = _NAMED_COLORS[value]
        return (red, green, blue, 1.0)
    if hex_match := _HEX_COLOR.fullmatch(value):
        digits = hex_match.group(1)
        if len(digits) <= 4:
            digits = "".join(d * 2 for d in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        alpha = channels[3] / 255 if len(channels) == 4 else 1.0
        return (channels[0], channels[1], channels[2], alpha)
    if rgb_match := _RGB_COLOR.fullmatch(value):
        *rgb, opacity = rgb_match.groups()
        r, g, b = (_amount(c, 255) for c in rgb)
        a = _amount(opacity, 1) if opacity else 1.0
        if r is None or g is None or b is None or a is None:
            return None
        return (r, g, b, a)
    return None


def _background(el: lxml.html.HtmlElement) -> str | None:
    """The background colour an element itself sets, or None (`background` may be an image)."""
    style = _style(el)
    if "background-color" in style:
        return style["background-color"]
    if "background" in style:
        return style["background"]  # a colour alone is judged; `url(...) #fff` is not known
    return el.get("bgcolor")


def _text_color(el: lxml.html.HtmlElement) -> str | None:
    return _style(el).get("color") or (el.get("color") if el.tag == "font" else None)


def _luminance(color: Color) -> float:
    """WCAG relative luminance."""

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = color
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _unreadable_color(el: lxml.html.HtmlElement) -> bool:
    """Text coloured like the background behind it, both known from inline styles."""
    if _text_color(el) is None and _background(el) is None:
        return False  # only an element that sets a colour can make its text unreadable
    chain = [el, *el.iterancestors()]
    fg = _color(next((c for e in chain if (c := _text_color(e)) is not None), None))
    if fg is not None and fg[3] == 0:
        return True  # `color: transparent` hides text on any background
    bg = None
    for e in chain:
        value = _background(e)
        if value is None or value.strip() == "none":
            continue
        bg = _color(value)
        if bg is None or bg[3] == 1:
            break  # an image, a gradient or a variable: the colour behind is not known
    if fg is None or bg is None or bg[3] < 1:
        return False
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05) < _MIN_CONTRAST


def _hidden_by_style(style: dict[str, str]) -> bool:
    """Inline styles that keep an element's text from being seen."""
    if style.get("display") == "none" or style.get("visibility") in ("hidden", "collapse"):
        return True
    font_size = _px(style.get("font-size"))
    if font_size is not None and font_size <= 1:
        return True
    opacity = _amount(style.get("opacity", "1"), 1)
    if opacity is not None and opacity < 0.1:
        return True
    if style.get("position", "static") != "static" and any(
        (_px(style.get(side)) or 0) <= _OFF_SCREEN_PX for side in ("left", "top", "right", "bottom")
    ):
        return True
    if any(
        (_px(style.get(prop)) or 0) <= _OFF_SCREEN_PX
        for prop in ("text-indent", "margin-left", "margin-top")
    ):
        return True
    clip = style.get("clip", "").replace(",", " ")
    if clip.startswith("rect(") and len(set(clip[5:].rstrip(")").split())) == 1:
        return True  # rect(0 0 0 0), rect(1px, 1px, 1px, 1px): an empty box
    if style.get("clip-path", "").startswith(("inset(50%", "inset(100%", "circle(0")):
        return True
    if style.get("transform", "").startswith(("scale(0)", "scale(0,", "scale(0 ")):
        return True
    if style.get("overflow") == "hidden" or "clip" in style:
        sizes = (_px(style.get(p)) for p in ("width", "height", "max-width", "max-height"))
        return any(size is not None and size <= 1 for size in sizes)
    return False


def _invisible(el: lxml.html.HtmlElement) -> bool:
    """Whether a browser would show none of an element's text, judged from its markup alone."""
    if el.get("hidden") is not None or el.get("aria-hidden", "").strip().lower() == "true":
        return True
    if _HIDDEN_CLASSES.intersection(el.get("class", "").lower().split()):
        return True
    return _hidden_by_style(_style(el)) or _unreadable_color(el)


def _drop_invisible(root: lxml.html.HtmlElement) -> None:
    """Remove elements a browser would not render, so hidden instructions never reach a model.

    trafilatura drops `display:none` but keeps text under the `hidden` attribute, screen-reader
    classes, zero-size or transparent text, off-screen boxes and text coloured like its background.
    What only a stylesheet hides cannot be known here and is kept.
    """
    doomed = [el for el in root.iter(*_INVISIBLE_TAGS)]
    for el in root.iter():
        if not isinstance(el.tag, str) or _invisible(el):  # comments, processing instructions
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
    value = " ".join(strip_invisible_chars(value).split()) if value else ""
    return value or None


def html_to_text(html: str, url: str | None = None) -> tuple[str | None, str | None, str]:
    """Title, meta description and main text of an HTML page (also used for local .html)."""
    try:
        root = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None, None, ""
    _drop_invisible(root)
    cleaned = strip_invisible_chars(lxml.html.tostring(root, encoding="unicode"))
    metadata = trafilatura.extract_metadata(cleaned, default_url=url)
    title = _clean_meta(metadata.title) if metadata else None
    description = _clean_meta(metadata.description) if metadata else None
    text = trafilatura.extract(
        cleaned, url=url, favor_precision=True, include_comments=False, include_tables=True
    )
    if not text:
        text = _plain_text(root)
    return title, description, strip_invisible_chars(text).strip()


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
        text = strip_invisible_chars(_decode(result.body))
        heading = _MARKDOWN_TITLE.search(text) if mime != "text/plain" else None
        title = heading.group(1) if heading else None
        return ExtractedPage(title, None, text, "text", text.encode("utf-8"), "text/plain")
    if mime in HTML_TYPES:
        title, description, text = html_to_text(_decode(result.body), result.final_url)
        document = f"{_header(title, description, result)}\n\n{text}\n"
        return ExtractedPage(title, description, text, "text", document.encode(), "text/plain")
    raise UnsupportedContent(result.final_url, mime)
