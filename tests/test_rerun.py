"""A rerun's inputs from a previous run: kept, dropped, replaced, read again; no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from panel.config import resolve
from panel.errors import InputError
from panel.judge.rerun import Changes, kept, rerun_documents
from panel.model.run import DocumentRef, Run
from panel.sources.documents import load_description
from panel.store.sqlite import Store
from tests.runs import doc, make_run, verdict


def description_ref(text: str) -> DocumentRef:
    d = load_description(text)
    return DocumentRef(
        name=d.name,
        title=d.title,
        mime=d.mime,
        origin="description",
        source=d.source,
        size_bytes=len(d.data),
        sha256=d.sha256,
        file_id="file_d",
        text=d.data.decode(),
    )


@pytest.fixture
def previous(tmp_path: Path) -> Run:
    (tmp_path / "a.md").write_text("# A\n\nAbout A.\n")
    refs = [doc(str(tmp_path / "a.md"), "x"), doc("gone.md", "y"), description_ref("A CLI.")]
    return make_run("r1", [verdict("builder", 70)], refs)


def test_drop_matches_a_path_and_the_word_description(previous: Run) -> None:
    """--drop takes a previous source as given, or 'description' for the pasted text."""
    refs = kept(previous, Changes(drop=["gone.md", "description"]))
    assert [r.name for r in refs] == [previous.documents[0].name]


def test_drop_matching_nothing_is_an_error(previous: Run) -> None:
    """A --drop no previous source answers to is refused, listing the sources there are."""
    with pytest.raises(InputError, match=r"--drop b\.md: run r1 has no such source .*gone\.md"):
        kept(previous, Changes(drop=["b.md"]))


def test_new_description_replaces_the_old(previous: Run) -> None:
    """--description on a rerun leaves the previous description out."""
    refs = kept(previous, Changes(description="A faster CLI."))
    assert [r.origin for r in refs] == ["file", "file"]


def test_pasted_text_comes_back_with_the_same_bytes(previous: Run, tmp_path: Path) -> None:
    """The kept description is rebuilt from the record with its SHA-256 unchanged."""
    docs = rerun_documents(
        previous, Changes(drop=["gone.md"]), resolve(home=tmp_path), Store(tmp_path / "home")
    )
    assert [d.origin for d in docs] == ["file", "description"]
    assert docs[1].sha256 == previous.documents[2].sha256


def test_missing_file_suggests_drop(previous: Run, tmp_path: Path) -> None:
    """A previous file that is gone is an error naming the --drop that leaves it out."""
    with pytest.raises(
        InputError,
        match=r"gone\.md: no such file \(a source of run r1; leave it out with --drop gone\.md\)",
    ):
        rerun_documents(previous, Changes(), resolve(home=tmp_path), Store(tmp_path / "home"))


def test_dropping_everything_is_an_error(previous: Run, tmp_path: Path) -> None:
    """Nothing left after the drops is refused before anything is sent."""
    drop = [r.source for r in previous.documents]
    with pytest.raises(InputError, match="nothing left to review"):
        rerun_documents(
            previous, Changes(drop=drop), resolve(home=tmp_path), Store(tmp_path / "home")
        )


def test_new_stdin_replaces_the_old(tmp_path: Path) -> None:
    """'-' on a rerun is new text from stdin: the previous stdin document is left out."""
    ref = description_ref("Piped.").model_copy(update={"origin": "stdin", "source": "-"})
    previous = make_run("r1", [verdict("builder", 70)], [doc("a.md", "x"), ref])
    assert [r.source for r in kept(previous, Changes(sources=["-"]))] == ["a.md"]
