"""An incremental, atomically published site: a page is re-rendered exactly when what it shows changed,
and the site is swapped in whole."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from panel.errors import InputError
from panel.pages import build_site, manifest, publish, render
from panel.store.sqlite import Store
from tests.runs import make_run, verdict

PAIRS = [("Acme", "beta")]
EVERY = {
    "index.html",
    "methodology.html",
    "feed.xml",
    "tools/acme.html",
    "tools/beta.html",
    "compare/acme-vs-beta.html",
}


@pytest.fixture
def store(tmp_path, acme_history, beta):
    store = Store(tmp_path / "home")
    for run in [*acme_history, beta]:
        store.save_run(run)
    yield store
    store.close()


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "site"


PERSONAS = ("builder", "skeptic", "founder", "futurist")


def build(store, out, personas, pairs=PAIRS, versions=None, site_url=None):
    versions = versions or {"system": 1, "persona": 1}
    return build_site(store, out, personas, versions, list(pairs), site_url=site_url)


def four(scores=(82, 74, 78, 80)):
    return [verdict(p, s) for p, s in zip(PERSONAS, scores, strict=True)]


def gamma(created_at="2026-11-27T10:00:00+00:00"):
    return make_run("r-gamma-1", four(), slug="gamma", created_at=created_at)


def test_unchanged_rebuild_without_pairs_renders_nothing(store, out, personas, monkeypatch):
    """With no comparisons, an unchanged rebuild renders no page and reads no record."""
    build(store, out, personas, pairs=())
    monkeypatch.setattr(store, "load_run", lambda run_id: pytest.fail(f"read {run_id}"))
    report = build(store, out, personas, pairs=())
    assert report.rendered == [] and report.written == []
    assert set(report.unchanged) == EVERY - {"compare/acme-vs-beta.html"}


def test_new_run_rerenders_its_page_index_and_feed(store, out, personas):
    """A new tool's run renders its page, the index and the feed; no other page."""
    build(store, out, personas)
    store.save_run(gamma())
    report = build(store, out, personas)
    assert set(report.rendered) == {"tools/gamma.html", "index.html", "feed.xml"}
    assert set(report.written) == {"tools/gamma.html", "index.html", "feed.xml"}


def test_new_run_of_a_compared_tool_rerenders_what_shows_it(store, out, personas):
    """A newer run of Acme (in a pair) renders its page, the comparison, Beta's page (it links
    to the comparison by name), the index and the feed; not the methodology."""
    build(store, out, personas)
    store.save_run(make_run("r-acme-3", four((10, 20, 30, 40)), created_at="2026-11-28"))
    report = build(store, out, personas)
    assert set(report.rendered) == EVERY - {"methodology.html"}
    assert "r-acme-3" in (out / "tools/acme.html").read_text(encoding="utf-8")


def test_a_vote_rerenders_only_the_pages_that_show_votes(store, out, personas):
    """A vote for Beta renders Beta's page and the comparison, not the index."""
    build(store, out, personas)
    store.set_vote("beta", "alice", "ship")
    report = build(store, out, personas)
    assert set(report.rendered) == {"tools/beta.html", "compare/acme-vs-beta.html"}
    assert "1 ship" in (out / "tools/beta.html").read_text(encoding="utf-8")


def test_a_persona_change_rerenders_every_page(store, out, personas):
    """A persona's new version or name renders every page again."""
    build(store, out, personas)
    renamed = [personas[0].model_copy(update={"name": "The Builder", "version": 2}), *personas[1:]]
    report = build(store, out, renamed)
    assert set(report.rendered) == EVERY
    assert "The Builder" in (out / "tools/acme.html").read_text(encoding="utf-8")


def test_a_prompt_version_rerenders_the_methodology(store, out, personas):
    """A prompt's new version renders the methodology page alone."""
    build(store, out, personas)
    report = build(store, out, personas, versions={"system": 2, "persona": 1})
    assert report.rendered == ["methodology.html"] and report.written == ["methodology.html"]


def test_a_site_url_rerenders_the_feed(store, out, personas):
    """A new --site-url renders the feed alone."""
    build(store, out, personas)
    report = build(store, out, personas, site_url="https://panel.example/")
    assert report.rendered == ["feed.xml"]


def test_a_template_change_rerenders_every_page(store, out, personas, monkeypatch):
    """Other rendering code (a template, a view, a new version) renders every page again."""
    build(store, out, personas)
    monkeypatch.setattr(manifest, "code_hash", lambda: "another template")
    report = build(store, out, personas)
    assert set(report.rendered) == EVERY and report.written == []


def test_an_edited_record_rerenders_its_pages(store, out, personas):
    """A record changed on disk (same run id) renders the pages that show it."""
    build(store, out, personas)
    path = store.record_path(store.load_run("r-beta-1"))
    path.write_text(path.read_text(encoding="utf-8").replace("Apache 2.0", "MIT licence"))
    report = build(store, out, personas)
    assert {"tools/beta.html", "compare/acme-vs-beta.html"} <= set(report.rendered)
    assert "MIT licence" in (out / "tools/beta.html").read_text(encoding="utf-8")


def test_a_deleted_page_is_built_again(store, out, personas):
    """A published page removed by hand is rendered again, not trusted to the manifest."""
    build(store, out, personas)
    (out / "tools/beta.html").unlink()
    report = build(store, out, personas)
    assert report.rendered == ["tools/beta.html"] and (out / "tools/beta.html").is_file()


def test_problems_are_reported_by_an_unchanged_rebuild(store, out, personas):
    """An unreadable record is named by every build, also one that renders nothing."""
    store.save_run(gamma())
    store.record_path(gamma()).write_text("not json", encoding="utf-8")
    first = build(store, out, personas)
    second = build(store, out, personas)
    assert len(first.problems) == 1 and second.problems == first.problems
    assert second.rendered == [] and not (out / "tools/gamma.html").exists()


def test_site_is_a_link_to_one_complete_build(store, out, personas):
    """The site path is a link to the current build; the builds folder keeps only that one."""
    build(store, out, personas)
    store.save_run(gamma())
    build(store, out, personas)
    builds = publish.builds_dir(out)
    assert out.is_symlink() and (out / "tools/gamma.html").is_file()
    kept = {p.name for p in builds.iterdir()} - {publish.LOCK}
    current = Path(os.readlink(out)).name
    assert kept == {current, f"{current}.json"}


def test_unchanged_pages_are_hard_links_into_the_new_build(store, out, personas):
    """A page carried into a new build is the same file (a hard link), not a copy."""
    build(store, out, personas)
    before = (out / "methodology.html").stat().st_ino
    store.save_run(gamma())
    build(store, out, personas)
    assert (out / "methodology.html").stat().st_ino == before


def test_a_failed_build_leaves_the_published_site(store, out, personas):
    """A build that fails half way publishes nothing: the old site stays whole, and the next
    build removes the unfinished folder."""
    build(store, out, personas)
    published = os.readlink(out)
    store.save_run(gamma())
    store.save_run(make_run("r-acme-3", four(), created_at="2026-11-28"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    with pytest.MonkeyPatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(render, "review_html", broken)
        build(store, out, personas)
    assert os.readlink(out) == published and not (out / "tools/gamma.html").exists()
    assert any(p.name.startswith(publish.STAGING) for p in publish.builds_dir(out).iterdir())
    build(store, out, personas)
    assert not any(p.name.startswith(publish.STAGING) for p in publish.builds_dir(out).iterdir())
    assert (out / "tools/gamma.html").is_file()


def test_a_folder_from_an_older_panel_becomes_the_link(store, out, personas):
    """A plain folder of pages (as older versions wrote) is replaced by the link, pages kept."""
    (out / "tools").mkdir(parents=True)
    (out / "index.html").write_text("old index", encoding="utf-8")
    (out / "tools" / "old-tool.html").write_text("old page", encoding="utf-8")
    report = build(store, out, personas)
    assert out.is_symlink() and set(report.written) == EVERY
    assert not (out / "tools" / "old-tool.html").exists()


def test_a_folder_with_other_files_is_refused(store, out, personas):
    """A folder holding files a site does not have is refused in one line and left alone."""
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="not a panel site"):
        build(store, out, personas)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine" and not out.is_symlink()


def test_a_second_build_at_once_is_refused(store, out, personas):
    """While one build holds the site, another is refused in one line."""
    build(store, out, personas)
    with publish.locked(out), pytest.raises(InputError, match="another `panel site`"):
        build(store, out, personas)


def test_every_link_resolves_after_incremental_builds(store, out, personas):
    """After a rebuild with a new tool, every relative href points at a file that exists."""
    build(store, out, personas)
    store.save_run(gamma())
    build(store, out, personas)
    for page in out.rglob("*.html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            if not href.startswith(("http://", "https://")):
                assert (page.parent / href).resolve().is_file(), (page, href)
