"""Issue 20: a source that is a symbolic link out of its folder is refused, not uploaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from panel.batch.backlog import parse
from panel.errors import InputError
from panel.sources.documents import load_file
from tests.conftest import Result
from tests.fake_anthropic import FakeAnthropic


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the sources' folder."""
    (tmp_path / "private").mkdir()
    path = tmp_path / "private" / "secret.txt"
    path.write_text("the secret the link points at\n")
    return path


@pytest.fixture
def folder(tmp_path: Path, secret: Path) -> Path:
    """The sources' folder: a real file, a link inside it, and a link out of it."""
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "acme.txt").write_text("Acme is a tool.\n")
    (folder / "alias.txt").symlink_to(folder / "acme.txt")
    (folder / "notes.txt").symlink_to(secret)
    (folder / "outside").symlink_to(secret.parent, target_is_directory=True)
    return folder


def test_a_link_out_of_its_folder_is_refused(folder: Path, secret: Path) -> None:
    """The message names the link and where it leads."""
    with pytest.raises(InputError, match="outside the folder") as info:
        load_file(folder / "notes.txt")
    assert str(secret) in str(info.value)


def test_a_link_inside_its_folder_is_read(folder: Path) -> None:
    assert load_file(folder / "alias.txt").data == b"Acme is a tool.\n"


def test_the_target_named_directly_is_read(secret: Path) -> None:
    """The user may review the file itself: only a link to it is refused."""
    assert b"secret" in load_file(secret).data


@pytest.mark.parametrize("entry", ["notes.txt", "outside/secret.txt"])
def test_a_backlog_row_through_a_link_out_of_its_folder_is_refused(
    folder: Path, entry: str
) -> None:
    """A file link or a directory link on the way: the row is an error, nothing is read."""
    backlog = folder / "backlog.yaml"
    backlog.write_text(f"- name: Acme\n  files: [{entry}]\n")
    parsed = parse(backlog)
    assert parsed.rows == [] and "outside the folder" in str(parsed.errors[0])


@pytest.mark.e2e
def test_review_of_a_link_out_of_its_folder_uploads_nothing(
    panel_cli: Callable[..., Result], fake: FakeAnthropic, folder: Path
) -> None:
    """One line, exit 2, and no request reached the API."""
    result = panel_cli("review", str(folder / "notes.txt"))
    assert result.code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "outside the folder" in result.stderr
    assert fake.requests == []
