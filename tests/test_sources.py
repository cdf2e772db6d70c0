"""Local inputs become uploadable documents, and bad ones are refused with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.errors import InputError
from panel.sources.documents import derive_name, load_description, load_file, slugify

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_markdown_is_plain_text_with_its_heading(tmp_path: Path) -> None:
    path = tmp_path / "acme.md"
    path.write_text("# Acme CLI\n\nShips things.\n")
    doc = load_file(path)
    assert (doc.mime, doc.heading, doc.filename) == ("text/plain", "Acme CLI", "acme.txt")


def test_pdf_is_uploaded_as_pdf(tmp_path: Path) -> None:
    path = tmp_path / "deck.pdf"
    path.write_bytes(PDF)
    doc = load_file(path)
    assert (doc.mime, doc.data) == ("application/pdf", PDF)


def test_html_is_converted_to_text_not_markup(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Acme</title><script>var secret='TRACKER';</script></head>"
        "<body><nav>Home | Pricing</nav><article><h1>Acme</h1>"
        + "<p>Acme turns backlogs into reviews with a four-person panel of critics.</p>" * 5
        + "</article></body></html>"
    )
    text = load_file(path).data.decode()
    assert "Acme turns backlogs into reviews" in text
    assert "<p>" not in text and "TRACKER" not in text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("tool.exe", b"MZ", "unsupported file type '.exe'"),
        ("empty.txt", b"  \n", "is empty"),
        ("latin.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
        ("fake.pdf", b"hello", "not a PDF"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=reason):
        load_file(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.txt: no such file"):
        load_file(tmp_path / "nope.txt")


def test_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match=r"52\.4 MB is over the 34 MB limit"):
        load_file(path)


def test_empty_description_is_refused() -> None:
    with pytest.raises(InputError, match="--description: is empty"):
        load_description("   ")


def test_name_comes_from_heading_then_file_stem(tmp_path: Path) -> None:
    a = tmp_path / "notes.txt"
    a.write_text("no heading here")
    assert derive_name([load_file(a)]) == "notes"
    assert derive_name([load_file(a), load_description("# Acme Cloud\nhi")]) == "Acme Cloud"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme CLI", "acme-cli"),
        ("../../etc/passwd", "etc-passwd"),
        ("Claude Files API!", "claude-files-api"),
    ],
)
def test_slugs_are_path_safe(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_name_without_letters_is_refused() -> None:
    with pytest.raises(InputError):
        slugify("/../")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Helix is a post-modern modal text editor.", "Helix"),
        ("Zed - a fast editor", "Zed"),
        ("Acme Cloud: widgets from YAML", "Acme Cloud"),
        ("Fast widgets for everyone, built in Rust and loved", "Fast widgets for everyone"),
    ],
)
def test_description_names_its_subject(text: str, name: str) -> None:
    """Issue 9: a description names the tool by its first sentence's subject, not its first words."""
    assert derive_name([load_description(text)]) == name
