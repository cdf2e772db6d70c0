"""Inputs (paths, stdin, pasted text, URLs) become Documents: bytes the Files API accepts.

The API takes only PDF and plain text in document blocks, so everything that is not a PDF is turned
into UTF-8 plain text here, HTML included (its readable text, not its markup).
"""

from __future__ import annotations

import hashlib
import re
import sys
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from panel.config import DEFAULT_MAX_FILE_BYTES
from panel.errors import InputError
from panel.model.run import FetchInfo, Origin
from panel.sources.names import slugify  # noqa: F401  (callers import it from here)
from panel.sources.text import strip_invisible_chars

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED = ", ".join(sorted(TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES))


class Document(BaseModel):
    """One source, ready to upload: `data` is PDF bytes or UTF-8 plain text."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    mime: Literal["text/plain", "application/pdf"]
    data: bytes
    origin: Origin
    source: str
    heading: str | None = None
    fetch: FetchInfo | None = None

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def filename(self) -> str:
        """The name sent to the Files API: the source name with the suffix of what it now is."""
        stem = Path(self.name).stem or "document"
        return f"{stem}.pdf" if self.mime == "application/pdf" else f"{stem}.txt"


def is_url(spec: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", spec))


def first_heading(text: str) -> str | None:
    """The first Markdown heading, or a `Title:` line as extracted pages carry."""
    for line in text.splitlines()[:200]:
        match = re.match(r"^(?:#{1,3}\s+|Title:\s+)(.+?)\s*#*\s*$", line)
        if match:
            return match.group(1).strip()
    return None


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what}: not UTF-8 text (byte {exc.start})") from exc


def _text_document(text: str, *, name: str, title: str, origin: Origin, source: str) -> Document:
    text = strip_invisible_chars(text)
    if not text.strip():
        raise InputError(f"{source}: is empty")
    return Document(
        name=name,
        title=title,
        mime="text/plain",
        data=text.encode("utf-8"),
        origin=origin,
        source=source,
        heading=first_heading(text),
    )


def escaping_link(path: Path, folder: Path | None = None) -> Path | None:
    """Where `path` really leads when a symlink on the way takes it out of `folder` (its own
    folder by default), else None. A link named `notes.txt` must not upload `~/.ssh/id_rsa.txt`:
    a file outside the folder is read only when the user names it, not a link to it."""
    if folder is None:
        if not path.is_symlink():
            return None
        folder = path.parent
    target = path.resolve()
    return None if target.is_relative_to(folder.resolve()) else target


def refuse_escaping_link(path: Path, target: Path) -> InputError:
    return InputError(
        f"{path}: a symbolic link to {target}, outside the folder it is in; "
        "name the target itself to review it"
    )


def load_file(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    """Read a local file into a Document, refusing what the panel cannot use before reading it."""
    suffix = path.suffix.lower()
    if (target := escaping_link(path)) is not None:
        raise refuse_escaping_link(path, target)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type '{suffix or '(none)'}' (supported: {SUPPORTED})"
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"{path}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path}: is empty")
    if suffix in PDF_SUFFIXES:
        if not data.startswith(b"%PDF-"):
            raise InputError(f"{path}: not a PDF (no %PDF- header)")
        return Document(
            name=path.name,
            title=path.name,
            mime="application/pdf",
            data=data,
            origin="file",
            source=str(path.resolve()),
        )
    text = _decode(data, str(path))
    if suffix in HTML_SUFFIXES:
        text = html_text(text)
    # The absolute path, so that a rerun from another directory finds the file again.
    return _text_document(
        text, name=path.name, title=path.name, origin="file", source=str(path.resolve())
    )


def html_text(html: str) -> str:
    """A page as the panel reads it: `Title:` and `Description:` lines, then its main text."""
    from panel.sources.extract import html_to_text

    title, description, body = html_to_text(html, None)
    header = [f"Title: {title}"] if title else []
    header += [f"Description: {description}"] if description else []
    return "\n".join([*header, "", body]) if header else body


def load_html(data: bytes, *, name: str, source: str) -> Document:
    """HTML bytes that are not a file of the user's (the red-team corpus) as `load_file` reads a
    local .html file: the same extraction, so the panel sees what it would see in a review."""
    text = html_text(_decode(data, source))
    return _text_document(text, name=name, title=name, origin="file", source=source)


def load_stdin(max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    data = sys.stdin.buffer.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(f"stdin: over the {max_bytes / 1e6:.0f} MB limit")
    return _text_document(
        _decode(data, "stdin"), name="stdin.txt", title="Standard input", origin="stdin", source="-"
    )


def load_description(text: str) -> Document:
    if not text.strip():
        raise InputError("--description: is empty")
    return _text_document(
        text.strip(),
        name="description.txt",
        title="Description from the reviewer",
        origin="description",
        source="--description",
    )


# The subject of a description's first sentence: up to four words before "is", "are", a dash or colon.
SUBJECT = re.compile(
    r"\s*([\w.+-]+(?:[ \t]+[\w.+-]+){0,3}?)[ \t]*(?:\s(?:is|are)\s|[:\u2014]|\s-\s)"
)


def derive_name(documents: list[Document]) -> str:
    """A tool name when none was given: the first heading, else the first file's stem."""
    for doc in documents:
        if doc.heading:
            return doc.heading[:80]
    for doc in documents:
        if doc.origin == "file":
            return Path(doc.name).stem
    text = documents[0].data.decode("utf-8", "replace") if documents[0].mime == "text/plain" else ""
    subject = SUBJECT.match(text)
    if subject:  # "Helix is a post-modern editor" names Helix, not its first four words
        return subject.group(1)
    words = re.findall(r"[\w.+-]+", text)[:4]
    return " ".join(words) or "untitled"
