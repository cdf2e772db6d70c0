"""A page written with `--out` is readable as the umask allows, like `panel site`'s pages."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from panel.cli.pages import emit_page
from panel.store.records import write_atomic


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_page_written_with_out_is_readable_by_others(tmp_path: Path, umask_022: None) -> None:
    """`panel show --format html -o review.html` is a page to publish (regression: it was
    written 0600, the atomic write's temporary file's mode, so a web server could not read it)."""
    page = tmp_path / "review.html"
    emit_page("<!doctype html><p>Ship</p>\n", page)
    assert mode(page) == 0o644
    assert page.read_text() == "<!doctype html><p>Ship</p>\n"


def test_a_run_record_stays_private(tmp_path: Path, umask_022: None) -> None:
    """The data home's own files keep the private mode: only what is meant to be shared changes."""
    record = tmp_path / "run.json"
    write_atomic(record, "{}\n")
    assert mode(record) == 0o600


def test_a_shared_file_replaces_the_old_one_whole(tmp_path: Path, umask_022: None) -> None:
    """The shared write is still atomic: the new text replaces the old, no temporary file left."""
    page = tmp_path / "page.md"
    page.write_text("old\n")
    write_atomic(page, "new\n", shared=True)
    assert page.read_text() == "new\n" and mode(page) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["page.md"]
