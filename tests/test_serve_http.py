"""`panel serve` over HTTP (Starlette's TestClient): votes, their checks and the pages' policy."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from panel.pages import render
from panel.serve.app import create_app
from panel.serve.security import CSRF_COOKIE, READER_COOKIE, SECRET_FILE
from panel.store.sqlite import Store
from tests.serve_helpers import form_of, seed, settings, solved
from tests.smtp import SmtpSink


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    made = Store(tmp_path / "store")
    seed(made)
    yield made
    made.close()


def browser(store: Store, home: Path) -> TestClient:
    """One browser at one address; `cookies.clear()` makes it a new reader."""
    app = create_app(store, settings(home))
    return TestClient(app, client=("198.51.100.7", 40000), follow_redirects=False)


@pytest.fixture
def c(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    with browser(store, tmp_path / "home") as client:
        yield client


@pytest.fixture
def on_both(make_store: Callable[..., Store], tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    """A browser over the SQLite store, then over PostgreSQL."""
    store = make_store()
    seed(store)
    with browser(store, tmp_path / "home") as client:
        yield client, store


def vote(c: TestClient, slug: str, decision: str, page: str | None = None) -> int:
    page = page or f"/tools/{slug}.html"
    fields = form_of(c.get(page).text, slug)
    return c.post("/vote", data=solved(fields, decision)).status_code


def test_a_vote_shows_in_the_tally_and_as_the_readers_own(
    on_both: tuple[TestClient, Store],
) -> None:
    """A reader's ship is counted on the tool's page, which says it is theirs."""
    c, _ = on_both
    assert vote(c, "zed", "ship") == 303
    page = c.get("/tools/zed.html").text
    assert "1 ship / 0 skip" in page
    assert "your vote: <b>ship</b>" in page


def test_voting_again_changes_the_vote(on_both: tuple[TestClient, Store]) -> None:
    """One vote per reader per tool: ship then skip leaves one skip."""
    c, store = on_both
    assert vote(c, "zed", "ship") == 303
    assert vote(c, "zed", "skip") == 303
    assert store.votes("zed").model_dump() == {"ship": 0, "skip": 1}


def test_comparison_page_votes_for_each_tool(c: TestClient, store: Store) -> None:
    """Both forms of a comparison work, and the redirect returns to the comparison."""
    page = "/compare/zed-vs-helix.html"
    fields = form_of(c.get(page).text, "helix")
    response = c.post("/vote", data=solved(fields, "skip"))
    assert response.headers["location"] == "compare/zed-vs-helix.html"
    assert store.votes("helix").skip == 1


def test_a_forged_csrf_token_is_refused(c: TestClient, store: Store) -> None:
    """A form whose token is not the cookie's is a 403 page, and nothing is counted."""
    fields = form_of(c.get("/tools/zed.html").text, "zed")
    forged = solved(fields, "ship") | {"csrf": fields["csrf"][:-2] + "xx"}
    response = c.post("/vote", data=forged)
    assert response.status_code == 403
    assert "security token" in response.text
    assert store.votes("zed").total == 0


def test_a_token_signed_elsewhere_is_refused_even_when_cookie_and_form_agree(
    c: TestClient, store: Store
) -> None:
    """Double submit with a planted cookie: both halves equal but not signed here."""
    fields = form_of(c.get("/tools/zed.html").text, "zed")
    c.cookies.set(CSRF_COOKIE, "planted")
    response = c.post("/vote", data=solved(fields, "ship") | {"csrf": "planted"})
    assert response.status_code == 403
    assert store.votes("zed").total == 0


def test_a_forged_reader_cookie_is_refused_and_cleared(c: TestClient, store: Store) -> None:
    """A reader cookie this site did not sign is a 403 that deletes it."""
    fields = form_of(c.get("/tools/zed.html").text, "zed")
    c.cookies.set(READER_COOKIE, "reader:someone-else.forged.signature")
    response = c.post("/vote", data=solved(fields, "ship"))
    assert response.status_code == 403
    assert f'{READER_COOKIE}=""' in response.headers["set-cookie"]
    assert store.votes("zed").total == 0


def test_a_replayed_reader_cookie_is_the_same_reader(c: TestClient, store: Store) -> None:
    """A reader's cookie copied into another browser changes that reader's vote, adds none."""
    assert vote(c, "zed", "ship") == 303
    reader = c.cookies[READER_COOKIE]
    c.cookies.clear()
    c.cookies.set(READER_COOKIE, reader)
    assert vote(c, "zed", "skip") == 303
    assert store.votes("zed").model_dump() == {"ship": 0, "skip": 1}


def test_a_replayed_proof_of_work_is_refused(c: TestClient, store: Store) -> None:
    """A solved challenge counts once: the same form posted twice is refused the second time."""
    data = solved(form_of(c.get("/tools/zed.html").text, "zed"), "ship")
    assert c.post("/vote", data=data).status_code == 303
    again = c.post("/vote", data=data | {"decision": "skip"})
    assert again.status_code == 400
    assert store.votes("zed").model_dump() == {"ship": 1, "skip": 0}


def test_a_thousand_votes_from_one_address_are_refused(c: TestClient, store: Store) -> None:
    """1,000 new readers from one address, each with a valid token and a solved challenge: the
    new-reader limit takes 10, then 429s."""
    fields = form_of(c.get("/tools/zed.html").text, "zed")
    pow = c.app.state.security.pow  # type: ignore[attr-defined]
    statuses = []
    for _ in range(1000):
        c.cookies.delete(READER_COOKIE)
        ballot = solved(fields | {"pow_token": pow.challenge().token}, "ship")
        statuses.append(c.post("/vote", data=ballot).status_code)
    assert statuses.count(303) == 10
    assert statuses.count(429) == 990
    assert store.votes("zed").ship == 10


def test_one_reader_voting_fast_is_rate_limited(c: TestClient) -> None:
    """One reader flipping a vote: 20 a minute are taken, the next is a 429 with Retry-After."""
    statuses = [vote(c, "zed", "ship" if i % 2 else "skip") for i in range(21)]
    assert statuses[:20] == [303] * 20
    refused = c.post("/vote", data=solved(form_of(c.get("/tools/zed.html").text, "zed"), "ship"))
    assert statuses[20] == 429 and refused.headers["retry-after"] == "60"


def test_votes_without_javascript_are_limited_harder(c: TestClient, store: Store) -> None:
    """The no-JS form (no proof of work) is taken 5 times an hour from one address."""
    statuses = []
    for i in range(6):
        fields = form_of(c.get("/tools/zed.html").text, "zed")
        data = fields | {"decision": "ship" if i % 2 else "skip"}
        statuses.append(c.post("/vote", data=data).status_code)
    assert statuses == [303] * 5 + [429]


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"decision": "maybe"}, 400, "ship or skip"),
        ({"slug": "../etc/passwd"}, 400, "not a tool"),
        ({"slug": "nope"}, 404, "No tool"),
        ({"back": "https://evil.example/"}, 400, "not a page of this site"),
        ({"pow_nonce": "12x"}, 400, "check did not pass"),
        ({"decision": "s" * 9}, 400, "longer than 8"),
    ],
)
def test_bad_form_input_is_a_readable_error(
    c: TestClient, change: dict[str, str], status: int, says: str
) -> None:
    """Each field is bounded and checked; a bad one is an error page saying which."""
    data = solved(form_of(c.get("/tools/zed.html").text, "zed"), "ship") | change
    response = c.post("/vote", data=data)
    assert response.status_code == status
    assert says in response.text and "<h1>" in response.text


def test_an_oversized_form_is_refused_before_it_is_read(c: TestClient) -> None:
    """More than 4 KB is a 413, whatever it holds."""
    response = c.post(
        "/vote",
        content=b"a=" + b"x" * 5000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_a_form_from_another_site_is_refused(c: TestClient, store: Store) -> None:
    """An Origin that is not this site's is a 403."""
    data = solved(form_of(c.get("/tools/zed.html").text, "zed"), "ship")
    response = c.post("/vote", data=data, headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert store.votes("zed").total == 0


def test_get_on_the_vote_address_does_nothing(c: TestClient) -> None:
    """Only POST votes; there is no other action over HTTP."""
    assert c.get("/vote").status_code == 405


def test_served_pages_allow_only_our_own_script(c: TestClient) -> None:
    """The header policy: no unsafe-inline script, forms to self only, no framing."""
    response = c.get("/tools/zed.html")
    policy = response.headers["content-security-policy"]
    assert (
        "script-src 'sha256-" in policy and "'unsafe-inline'" not in policy.split("script-src")[1]
    )
    assert "form-action 'self'" in policy and "frame-ancestors 'none'" in policy
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?:", response.text)


def test_the_static_site_has_no_vote_form(store: Store) -> None:
    """`panel site` pages stay form-free: only the served pages carry the vote."""
    runs = [store.load_run(store.latest_run_id("zed") or "")]
    page = render.review_html(runs[0], runs, [], store.votes("zed"))
    assert "<form" not in page and "form-action &#39;none&#39;" in page


def test_the_secret_is_private_and_no_address_is_stored(
    c: TestClient, store: Store, tmp_path: Path
) -> None:
    """The serving secret is mode 0600, and the votes table holds no client address."""
    assert vote(c, "zed", "ship") == 303
    assert (tmp_path / "home" / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    rows = store.db.execute("SELECT * FROM votes").fetchall()
    assert rows and not any("198.51.100.7" in str(tuple(r)) for r in rows)


def test_the_newsletter_takes_the_csrf_token_the_vote_pages_set(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One CSRF scheme: the cookie a tool page set is the one the newsletter's form carries and
    its subscribe accepts; the newsletter sets no cookie of its own."""
    with SmtpSink() as smtp:
        monkeypatch.setenv("PANEL_SMTP_URL", smtp.url)
        with browser(store, tmp_path / "home") as client:
            token = form_of(client.get("/tools/zed.html").text, "zed")["csrf"]
            page = client.get("/newsletter")
            assert "set-cookie" not in page.headers
            assert f'name="csrf" value="{token}"' in page.text
            sent = client.post(
                "/newsletter/subscribe", data={"csrf": token, "email": "r@example.com"}
            )
            assert sent.status_code == 200 and "Check your inbox" in sent.text
            assert len(smtp.wait_for(1)) == 1
