"""The newsletter's routes in a minimal Starlette app, mailing through a real SMTP server on
127.0.0.1: double opt-in, signed links, the form's errors and guards, and no address anywhere."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panel.errors import ConfigError
from panel.serve.newsletter import Tokens, newsletter_routes
from panel.serve.security import CSRF_COOKIE, Security
from panel.store.sqlite import Store
from panel.store.subscribers import Subscribers
from tests.smtp import SmtpSink, body, links

SECRET = b"test-secret-0123456789abcdef"
BASE = "https://verdicts.example"
ADDRESS = "reader.one@example.com"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "home")
    yield opened
    opened.close()


@pytest.fixture
def make_client(store: Store, smtp: SmtpSink) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(
        smtp_url: str | None = "default",
        security: Security | None = None,
        address: str = "testclient",
    ) -> TestClient:
        url = smtp.url if smtp_url == "default" else smtp_url
        routes = newsletter_routes(
            store, secret=SECRET, smtp_url=url, base_url=BASE, security=security
        )
        client = TestClient(Starlette(routes=routes), base_url=BASE, client=(address, 50000))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def subscribe(client: TestClient, email: str, **extra: str) -> object:
    """Open the form (for its CSRF cookie and field), then post it."""
    form = client.get("/newsletter")
    token = CSRF.search(form.text)
    assert token is not None
    return client.post(
        "/newsletter/subscribe", data={"csrf": token.group(1), "email": email, **extra}
    )


def path_of(url: str) -> str:
    return urlsplit(url).path


def confirm_link(smtp: SmtpSink) -> str:
    message = smtp.wait_for(1)[-1]
    return links(body(message), "/newsletter/confirm/")[0]


def test_form_works_without_javascript_and_sends_a_policy(client: TestClient) -> None:
    """The subscribe page is a plain POST form with an email field, a CSRF field and a CSP."""
    page = client.get("/newsletter")
    assert page.status_code == 200
    assert '<form method="post" action="/newsletter/subscribe"' in page.text
    assert 'name="email" type="email" required maxlength="254"' in page.text
    assert "<script" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"


def test_subscribe_mails_a_confirmation_link_and_says_check_your_inbox(
    client: TestClient, smtp: SmtpSink, store: Store
) -> None:
    """Subscribing stores a pending address and mails a signed confirm link; the page says only
    'check your inbox'."""
    page = subscribe(client, ADDRESS)
    assert page.status_code == 200 and "Check your inbox" in page.text
    [mail] = smtp.wait_for(1)
    assert mail["To"] == ADDRESS
    assert links(body(mail), f"{BASE}/newsletter/confirm/")
    assert links(body(mail, "html"), f"{BASE}/newsletter/confirm/")
    [row] = [s for s in [Subscribers(store).get(sid) for sid in _ids(store)] if s]
    assert row.status == "pending" and row.email == ADDRESS


def _ids(store: Store) -> list[str]:
    return [r["id"] for r in store.db.execute("SELECT id FROM subscribers").fetchall()]


def test_every_mail_carries_an_unsubscribe_link_and_header(
    client: TestClient, smtp: SmtpSink
) -> None:
    """The confirmation mail has an unsubscribe link in its body and a one-click List-Unsubscribe."""
    subscribe(client, ADDRESS)
    [mail] = smtp.wait_for(1)
    [link] = links(body(mail), "/newsletter/unsubscribe/")
    assert mail["List-Unsubscribe"] == f"<{link}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_following_the_link_confirms(client: TestClient, smtp: SmtpSink, store: Store) -> None:
    """The confirm link activates the subscription."""
    subscribe(client, ADDRESS)
    page = client.get(path_of(confirm_link(smtp)))
    assert page.status_code == 200 and "You are subscribed" in page.text
    assert [s.email for s in Subscribers(store).confirmed()] == [ADDRESS]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # altered signature
        lambda t: Tokens(b"another-secret-0123456789").confirm(t.split(".")[0]),  # other key
        lambda t: "x" * 500,  # oversized
    ],
    ids=["altered", "other-secret", "oversized"],
)
def test_a_forged_confirm_token_is_refused(
    client: TestClient, smtp: SmtpSink, store: Store, tamper: Callable[[str], str]
) -> None:
    """A confirm token that is not ours, or altered, confirms nothing."""
    subscribe(client, ADDRESS)
    token = confirm_link(smtp).rsplit("/", 1)[1]
    page = client.get(f"/newsletter/confirm/{tamper(token)}")
    assert page.status_code == 400 and "not valid" in page.text
    assert Subscribers(store).confirmed() == []


def test_an_expired_confirm_token_is_refused(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A confirm link older than 48 hours confirms nothing."""
    sid = Subscribers(store).subscribe(ADDRESS).subscriber.id
    issued = int(time.time()) - 49 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: issued)
        token = Tokens(SECRET).confirm(sid)
    page = client.get(f"/newsletter/confirm/{token}")
    assert page.status_code == 400
    assert Subscribers(store).get(sid).status == "pending"  # type: ignore[union-attr]


def test_an_unsubscribe_token_does_not_confirm(client: TestClient, store: Store) -> None:
    """The two kinds of link are signed apart: an unsubscribe token is no confirmation."""
    sid = Subscribers(store).subscribe(ADDRESS).subscriber.id
    page = client.get(f"/newsletter/confirm/{Tokens(SECRET).unsubscribe(sid)}")
    assert page.status_code == 400 and Subscribers(store).confirmed() == []


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("not-an-address", "not a valid email address"),
        ("someone@", "not a valid email address"),
        ("", "Enter your email address"),
        ("a" * 250 + "@example.com", "longer than 254 characters"),
        ("jörg@example.com", "only ASCII letters before the @"),
        ("\uff41@example.com", "only ASCII letters before the @"),  # a fullwidth a
    ],
)
def test_a_bad_address_gets_a_clear_error_and_no_mail(
    client: TestClient, smtp: SmtpSink, store: Store, email: str, error: str
) -> None:
    """A bad address is refused on the form with what to fix, and the input is not echoed."""
    page = subscribe(client, email)
    assert page.status_code == 400
    assert error in page.text and 'role="alert"' in page.text
    assert not email or email not in page.text
    assert smtp.messages == []
    assert Subscribers(store).counts() == {}  # refused before anything is stored


def test_a_post_without_the_form_token_is_refused(client: TestClient, smtp: SmtpSink) -> None:
    """A cross-site post (no CSRF field matching the cookie) subscribes nobody."""
    client.get("/newsletter")
    page = client.post("/newsletter/subscribe", data={"csrf": "0" * 64, "email": ADDRESS})
    assert page.status_code == 403 and smtp.messages == []


def test_a_planted_token_pair_is_refused(client: TestClient, smtp: SmtpSink) -> None:
    """Double submit with a cookie and field that agree but were not signed here is a 403."""
    client.get("/newsletter")
    client.cookies.set(CSRF_COOKIE, "planted", domain="verdicts.example")
    page = client.post("/newsletter/subscribe", data={"csrf": "planted", "email": ADDRESS})
    assert page.status_code == 403 and smtp.messages == []


def test_the_form_sets_the_sites_csrf_cookie_once(client: TestClient) -> None:
    """The form's token is the site-wide CSRF cookie's; a second visit keeps the same one."""
    first = client.get("/newsletter")
    cookie = client.cookies.get(CSRF_COOKIE)
    assert cookie and CSRF.search(first.text).group(1) == cookie  # type: ignore[union-attr]
    assert "path=/;" in first.headers["set-cookie"].lower()
    second = client.get("/newsletter")
    assert "set-cookie" not in second.headers
    assert CSRF.search(second.text).group(1) == cookie  # type: ignore[union-attr]


def test_a_cookie_not_signed_here_is_replaced_by_the_form(client: TestClient) -> None:
    """A planted CSRF cookie is not put in the form: the page sets a new one, which then works."""
    client.cookies.set(CSRF_COOKIE, "planted", domain="verdicts.example")
    page = client.get("/newsletter")
    assert CSRF_COOKIE in page.headers["set-cookie"]
    assert client.cookies.get(CSRF_COOKIE) != "planted"
    assert subscribe(client, ADDRESS).status_code == 200  # type: ignore[attr-defined]


def test_a_body_that_is_not_a_form_is_refused(client: TestClient, smtp: SmtpSink) -> None:
    """JSON (or any type but a urlencoded form) is a 415 page, and nothing is sent."""
    client.get("/newsletter")
    page = client.post("/newsletter/subscribe", json={"email": ADDRESS})
    assert page.status_code == 415 and "urlencoded" in page.text and smtp.messages == []


def test_the_subscribe_limit_is_the_shared_limiters_rule(
    make_client: Callable[..., TestClient], smtp: SmtpSink
) -> None:
    """The routes count attempts under the "subscribe" rule of the Security they are given."""
    client = make_client(security=Security.from_secret(SECRET, {"subscribe": "2/minute"}))
    codes = [subscribe(client, f"reader{i}@example.com").status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_the_limit_counts_each_client_address_apart(
    make_client: Callable[..., TestClient], smtp: SmtpSink
) -> None:
    """One address spending its attempts leaves another's untouched (keyed by address hash)."""
    shared = Security.from_secret(SECRET, {"subscribe": "1/minute"})
    one = make_client(security=shared, address="198.51.100.1")
    other = make_client(security=shared, address="198.51.100.2")
    assert subscribe(one, "a@example.com").status_code == 200  # type: ignore[attr-defined]
    assert subscribe(one, "b@example.com").status_code == 429  # type: ignore[attr-defined]
    assert subscribe(other, "c@example.com").status_code == 200  # type: ignore[attr-defined]


def test_too_many_attempts_from_one_client_are_refused(client: TestClient, smtp: SmtpSink) -> None:
    """Past five attempts a minute, the form answers 429 and mails nothing more."""
    codes = [subscribe(client, f"reader{i}@example.com").status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    assert len(smtp.messages) == 5


def test_subscribing_twice_sends_one_mail_and_the_same_page(
    client: TestClient, smtp: SmtpSink
) -> None:
    """Asking again for a pending address (or a confirmed one) mails nothing more, and the page
    cannot tell the cases apart."""
    first = subscribe(client, ADDRESS)
    second = subscribe(client, ADDRESS.upper())
    client.get(path_of(confirm_link(smtp)))
    third = subscribe(client, ADDRESS)
    assert first.text == second.text == third.text  # type: ignore[attr-defined]
    assert len(smtp.messages) == 1


def test_an_oversized_form_is_refused(client: TestClient, smtp: SmtpSink) -> None:
    """A body past 4 KiB is not read, and nothing is sent."""
    page = subscribe(client, ADDRESS, filler="x" * 5000)
    assert page.status_code == 413 and smtp.messages == []


def test_unsubscribe_get_asks_and_post_unsubscribes(
    client: TestClient, smtp: SmtpSink, store: Store
) -> None:
    """Opening the link changes nothing (mail scanners open links); its button unsubscribes."""
    subscribe(client, ADDRESS)
    client.get(path_of(confirm_link(smtp)))
    path = path_of(links(body(smtp.messages[0]), "/newsletter/unsubscribe/")[0])
    page = client.get(path)
    assert page.status_code == 200 and f'action="{path}"' in page.text
    assert len(Subscribers(store).confirmed()) == 1
    done = client.post(path)
    assert done.status_code == 200 and "Unsubscribed" in done.text
    assert Subscribers(store).confirmed() == []


def test_one_click_unsubscribe_works_without_a_form_token(
    client: TestClient, smtp: SmtpSink, store: Store
) -> None:
    """A mail client's RFC 8058 one-click POST to the List-Unsubscribe URL unsubscribes."""
    subscribe(client, ADDRESS)
    client.get(path_of(confirm_link(smtp)))
    url = smtp.messages[0]["List-Unsubscribe"].strip("<>")
    done = client.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and Subscribers(store).confirmed() == []


def test_a_forged_unsubscribe_token_is_refused(client: TestClient, store: Store) -> None:
    """An unsubscribe link must be signed by us."""
    sid = Subscribers(store).subscribe(ADDRESS).subscriber.id
    Subscribers(store).confirm(sid)
    forged = Tokens(b"another-secret-0123456789").unsubscribe(sid)
    assert client.post(f"/newsletter/unsubscribe/{forged}").status_code == 400
    assert len(Subscribers(store).confirmed()) == 1


def test_a_confirm_link_after_unsubscribing_no_longer_counts(
    client: TestClient, smtp: SmtpSink, store: Store
) -> None:
    """Unsubscribing from the confirmation mail, then following its confirm link, subscribes no one."""
    subscribe(client, ADDRESS)
    confirm = path_of(confirm_link(smtp))
    client.post(path_of(links(body(smtp.messages[0]), "/newsletter/unsubscribe/")[0]))
    assert client.get(confirm).status_code == 400
    assert Subscribers(store).confirmed() == []


def test_the_address_never_appears_in_a_page_or_a_log(
    client: TestClient, smtp: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the whole flow, no served page and no log record holds the address."""
    caplog.set_level(logging.DEBUG)
    pages = [client.get("/newsletter"), subscribe(client, ADDRESS)]
    confirm = path_of(confirm_link(smtp))
    unsubscribe = path_of(links(body(smtp.messages[0]), "/newsletter/unsubscribe/")[0])
    pages += [client.get(confirm), client.get(unsubscribe), client.post(unsubscribe)]
    pages += [subscribe(client, "broken@@example.com")]
    # every log but the test mail server's own (it is where the address is meant to go)
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert "subscriber" in ours  # the flow did log
    for page in pages:
        text = page.text  # type: ignore[attr-defined]
        assert ADDRESS not in text and "reader.one" not in text and "broken@@" not in text
        assert ADDRESS not in str(page.headers)  # type: ignore[attr-defined]
    assert "reader.one" not in ours
    assert "reader.one" not in confirm + unsubscribe  # links carry an id, never the address


def test_an_unreachable_mail_server_is_a_try_again_page(
    make_client: Callable[..., TestClient], smtp: SmtpSink, store: Store
) -> None:
    """With the SMTP server down the page says to try again, and a later try mails the link."""
    port = smtp.controller.port
    down = make_client("smtp://127.0.0.1:1")  # nothing listens on port 1
    page = subscribe(down, ADDRESS)
    assert page.status_code == 503 and "try again" in page.text
    up = make_client(f"smtp://127.0.0.1:{port}")
    assert subscribe(up, ADDRESS).status_code == 200
    assert len(smtp.wait_for(1)) == 1


def test_without_a_mail_server_the_form_says_it_is_not_set_up(
    make_client: Callable[..., TestClient], smtp: SmtpSink
) -> None:
    """No smtp_url: the page says the newsletter is not set up, and a post is refused."""
    client = make_client(None)
    assert "not set up" in client.get("/newsletter").text
    assert client.post("/newsletter/subscribe", data={"email": ADDRESS}).status_code == 503


@pytest.mark.parametrize(
    ("secret", "base_url", "error"),
    [
        (b"short", BASE, "at least 16 bytes"),
        (SECRET, "javascript:alert(1)", "absolute http"),
    ],
)
def test_a_weak_secret_or_bad_base_url_fails_when_the_routes_are_made(
    store: Store, secret: bytes, base_url: str, error: str
) -> None:
    """A guessable secret or a base URL that is no http(s) URL is refused at start-up."""
    with pytest.raises(ConfigError, match=error):
        newsletter_routes(store, secret=secret, smtp_url=None, base_url=base_url)


def test_a_malformed_mail_url_fails_when_the_routes_are_made(store: Store) -> None:
    """A bad smtp_url is refused at start-up, without its password."""
    with pytest.raises(ConfigError, match=r"scheme must be smtp") as info:
        newsletter_routes(store, secret=SECRET, smtp_url="ftp://u:hunter2@x", base_url=BASE)
    assert "hunter2" not in str(info.value)
