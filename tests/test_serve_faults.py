"""`panel serve` when its store fails under it: a PostgreSQL connection lost (a restart, a
terminated backend) is opened again, and whatever still fails is a page with the site's policy,
never a bare "Internal Server Error"."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from panel.serve import pages
from panel.serve.app import create_app
from panel.store.sqlite import Store
from tests.serve_helpers import form_of, seed, settings, solved


def client_of(store: Store, home: Path) -> TestClient:
    app = create_app(store, settings(home))
    return TestClient(app, client=("198.51.100.9", 40000), raise_server_exceptions=False)


def cut_connections(store: Store) -> None:
    """Terminate every other backend of the store's database, as a server restart would."""
    store.db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_lost_database_connection_is_opened_again(
    backend: str, make_store: Callable[..., Store], tmp_path: Path
) -> None:
    """Pages and votes go on after the site's connections were cut: each worker thread whose
    connection was lost opens a new one, and the request is served."""
    store = make_store()
    seed(store)
    owner = make_store()  # a connection of its own, left alive, to cut the others from
    with client_of(store, tmp_path / "home") as c:
        assert c.get("/tools/zed.html").status_code == 200
        cut_connections(owner)
        for _ in range(3):
            page = c.get("/tools/zed.html")
            assert page.status_code == 200, page.text[:200]
        fields = form_of(page.text, "zed")
        cut_connections(owner)
        assert c.post("/vote", data=solved(fields, "ship")).status_code in (200, 303)
        assert c.get("/index.html").status_code == 200


def test_a_store_that_keeps_failing_is_a_503_page_with_the_policy(
    store_of: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The store failing on every read: a readable 503 page, with the page policy and the
    hardening headers and a Retry-After; the log has one line, no traceback."""

    def failing(*args: object, **kwargs: object) -> str:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(pages, "review_page", failing)
    with client_of(store_of, tmp_path / "home") as c, caplog.at_level(logging.INFO):
        page = c.get("/tools/zed.html")
    assert page.status_code == 503
    assert "<h1>" in page.text and "try again" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["retry-after"]
    assert "Traceback" not in caplog.text and "disk I/O error" in caplog.text


def test_a_bug_is_a_500_page_with_the_policy(
    store_of: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception nobody anticipated is still a page of the site, not Starlette's plain text."""

    def buggy(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pages, "index_page", buggy)
    with client_of(store_of, tmp_path / "home") as c:
        page = c.get("/index.html")
    assert page.status_code == 500
    assert "<h1>" in page.text and "a bug" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


@pytest.fixture
def store_of(tmp_path: Path) -> Store:
    made = Store(tmp_path / "store")
    seed(made)
    return made


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_newsletters_own_connection_is_opened_again(
    backend: str, make_store: Callable[..., Store]
) -> None:
    """The newsletter's routes use the store they were given on the server's own thread: once
    its connection was lost, they open a new one instead of failing every subscribe after."""
    from panel.serve.newsletter.routes import _Held

    store, owner = make_store(), make_store()
    held = _Held(store)
    with held.subscribers() as book:
        book.subscribe("reader@example.com")
    cut_connections(owner)
    with held.subscribers() as book:
        assert book.counts() == {"pending": 1}
