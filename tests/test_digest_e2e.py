"""`panel digest` through the real command, against a store with a few runs and a real SMTP
server on 127.0.0.1; readers subscribe through the newsletter routes in a minimal app."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panel.serve.newsletter import newsletter_routes
from panel.store.open import open_store
from panel.store.sqlite import Store
from panel.store.subscribers import Subscribers
from tests.conftest import PANEL, Result
from tests.fake_anthropic import FakeAnthropic
from tests.runs import CARD, make_run, verdict
from tests.smtp import PASSWORD, SmtpSink, body, links

SECRET = "digest-secret-0123456789abcdef"
BASE = "https://verdicts.example"
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.org"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="seconds")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def seeded(isolated_env: Path, request: pytest.FixtureRequest) -> Path:
    """Three tools: two reviewed this week (one of them twice), one a month ago; in the store of
    the test's backend when it has one (PANEL_DATABASE_URL, set before the store opens)."""
    if "backend" in request.fixturenames:
        request.getfixturevalue("backend")
    store = open_store(isolated_env)
    scores = {"builder": 82, "skeptic": 55, "founder": 74, "futurist": 68}
    ok = [verdict(p, s, f"{p} says <b>bold</b>") for p, s in scores.items()]
    weak = [verdict(p, s - 30) for p, s in scores.items()]
    card = dict(CARD, name="Kestrel", tagline="Queues <script>alert(1)</script> for builders.")
    store.save_run(
        make_run("r-kestrel-1", weak, slug="kestrel", card=card, created_at=ago(days=20))
    )
    store.save_run(make_run("r-kestrel-2", ok, slug="kestrel", card=card, created_at=ago(days=2)))
    tern = dict(CARD, name="Tern", category="Project Management")
    store.save_run(make_run("r-tern", weak, slug="tern", card=tern, created_at=ago(hours=30)))
    old = dict(CARD, name="Oldie")
    store.save_run(make_run("r-oldie", ok, slug="oldie", card=old, created_at=ago(days=30)))
    store.close()
    return isolated_env


@pytest.fixture
def reader(seeded: Path, smtp: SmtpSink) -> Iterator[Callable[[str, bool], None]]:
    """Subscribe an address through the routes (and confirm it, or not)."""
    store = open_store(seeded)
    app = Starlette(
        routes=newsletter_routes(store, secret=SECRET.encode(), smtp_url=smtp.url, base_url=BASE)
    )
    with TestClient(app, base_url=BASE) as client:

        def subscribe(address: str, confirm: bool) -> None:
            before = len(smtp.messages)
            token = CSRF.search(client.get("/newsletter").text)
            assert token is not None
            page = client.post(
                "/newsletter/subscribe", data={"csrf": token.group(1), "email": address}
            )
            assert page.status_code == 200
            [link] = links(body(smtp.wait_for(before + 1)[-1]), "/newsletter/confirm/")
            if confirm:
                assert client.get(urlsplit(link).path).status_code == 200

        subscribe.client = client  # type: ignore[attr-defined]
        yield subscribe
    store.close()


def send_env(smtp: SmtpSink) -> dict[str, str]:
    return {"PANEL_SMTP_URL": smtp.url, "PANEL_SECRET_KEY": SECRET, "PANEL_BASE_URL": BASE}


def send(panel_cli: Callable[..., Result], smtp: SmtpSink, *args: str) -> Result:
    return panel_cli("digest", "--send", *args, env=send_env(smtp))


def new_run(home: Path, created_at: str, run_id: str = "r-wren") -> None:
    """Another tool reviewed: a digest that shows it is another digest."""
    store = open_store(home)
    try:
        store.save_run(
            make_run(run_id, [verdict("builder", 77)], slug="wren", created_at=created_at)
        )
    finally:
        store.close()


def digests(smtp: SmtpSink) -> list:  # type: ignore[type-arg]
    return [m for m in smtp.messages if "verdicts (" in m["Subject"]]


def test_digest_goes_to_confirmed_readers_only_until_they_unsubscribe(
    backend: str,
    seeded: Path,
    panel_cli: Callable[..., Result],
    smtp: SmtpSink,
    reader: Callable[[str, bool], None],
    fake: FakeAnthropic,
) -> None:
    """subscribe -> confirm -> digest --send reaches the confirmed only, each with their own
    unsubscribe link -> unsubscribe -> the next digest skips them; the API is never called."""
    reader(ALICE, True)
    reader(BOB, False)
    reader(CAROL, True)
    first = send(panel_cli, smtp)
    assert first.code == 0, first.stderr
    assert "digest: sent 2, already sent 0, failed 0, through smtp://127.0.0.1:" in first.stdout
    sent = digests(smtp)
    assert sorted(m["To"] for m in sent) == [ALICE, CAROL]
    own = {m["To"]: links(body(m), "/newsletter/unsubscribe/") for m in sent}
    assert own[ALICE] != own[CAROL] and all(len(v) == 1 for v in own.values())
    alice = next(m for m in sent if m["To"] == ALICE)
    assert alice["List-Unsubscribe"] == f"<{own[ALICE][0]}>"
    client: TestClient = reader.client  # type: ignore[attr-defined]
    assert client.post(urlsplit(own[ALICE][0]).path).status_code == 200
    new_run(seeded, ago(hours=1))  # the next digest: one that shows another run
    second = send(panel_cli, smtp)
    assert second.code == 0 and "sent 1, already sent 0" in second.stdout
    assert [m["To"] for m in digests(smtp)[len(sent) :]] == [CAROL]
    assert fake.message_requests == [] and fake.files == {}
    for result in (first, second):
        assert all(a not in result.stdout + result.stderr for a in (ALICE, BOB, CAROL))
        assert PASSWORD not in result.stdout + result.stderr


def test_the_text_preview_lists_the_weeks_verdicts_only(
    panel_cli: Callable[..., Result], seeded: Path
) -> None:
    """Without --send the text digest is printed: this week's tools, newest first, with what
    moved, and not last month's."""
    result = panel_cli("digest")
    assert result.code == 0, result.stderr
    text = result.stdout
    assert text.index("Tern:") < text.index("Kestrel:")  # newest first
    assert "Oldie" not in text
    assert "(was Skip" in text  # Kestrel's run before this week's
    assert "Builder 82/100 · ship" in text
    assert "http://127.0.0.1:8000/tools/kestrel.html" in text


def test_out_writes_html_with_inline_styles_and_nothing_external(
    panel_cli: Callable[..., Result], seeded: Path, tmp_path: Path
) -> None:
    """--out DIR writes digest.html and digest.txt; the HTML escapes model text, loads nothing
    and styles inline."""
    out = tmp_path / "digest"
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("Kestrel vs Tern\n", encoding="utf-8")
    result = panel_cli("digest", "--out", str(out), "--pairs", str(pairs), "--base-url", BASE)
    assert result.code == 0, result.stderr
    html = (out / "digest.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "<b>bold</b>" not in html
    assert not re.search(r"<(link|style|img|iframe)\b|\bsrc=", html)
    assert f'href="{BASE}/compare/kestrel-vs-tern.html"' in html
    assert "Kestrel vs Tern" in (out / "digest.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("since", ["0d", "30m", "366d", "week", "-1d"])
def test_a_since_out_of_bounds_is_one_line(panel_cli: Callable[..., Result], since: str) -> None:
    """--since takes 1h to 365d; anything else is one line and exit 2."""
    result = panel_cli("digest", "--since", since)
    assert result.code == 2
    assert "give a span from 1h to 365d" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_wider_since_reaches_older_runs(panel_cli: Callable[..., Result], seeded: Path) -> None:
    """--since 45d includes last month's tool, and says its span."""
    result = panel_cli("digest", "--since", "45d")
    assert result.code == 0 and "Oldie:" in result.stdout
    assert result.stdout.startswith("panel: The verdicts of the last 45d, ")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (None, "PANEL_SMTP_URL is not set"),
        ("ftp://mailer:hunter2-secret@127.0.0.1:25", "scheme must be smtp://"),
        ("smtp://mailer:hunter2-secret@127.0.0.1:notaport", "not a valid URL"),
        ("smtp://mailer:hunter2-secret@:25", "no host"),
    ],
)
def test_a_missing_or_bad_smtp_url_is_one_line_without_the_password(
    panel_cli: Callable[..., Result], seeded: Path, url: str | None, error: str
) -> None:
    """--send refuses, before anything else, without PANEL_SMTP_URL or with a bad one."""
    env = {"PANEL_SECRET_KEY": SECRET, "PANEL_BASE_URL": BASE}
    if url is not None:
        env["PANEL_SMTP_URL"] = url
    result = panel_cli("digest", "--send", env=env)
    assert result.code == 2 and error in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_wrong_smtp_password_is_one_line_without_it(
    panel_cli: Callable[..., Result], smtp: SmtpSink, reader: Callable[[str, bool], None]
) -> None:
    """A login the server refuses is one line naming the server, never the password."""
    reader(ALICE, True)
    env = {"PANEL_SECRET_KEY": SECRET, "PANEL_BASE_URL": BASE}
    env["PANEL_SMTP_URL"] = smtp.url.replace(PASSWORD, "wrong-pw-4711")
    result = panel_cli("digest", "--send", env=env)
    assert result.code == 2 and "refused the login" in result.stderr
    assert "wrong-pw-4711" not in result.stderr and digests(smtp) == []


def test_a_refused_address_is_counted_and_the_others_still_go(
    panel_cli: Callable[..., Result], smtp: SmtpSink, reader: Callable[[str, bool], None]
) -> None:
    """One recipient the server refuses: reported as a count (never the address), exit 1, and
    every other subscriber gets the digest."""
    for address in (ALICE, BOB, CAROL):
        reader(address, True)
    smtp.collector.refuse.add(BOB)
    result = send(panel_cli, smtp)
    assert result.code == 1
    assert "sent 2, already sent 0, failed 1" in result.stdout
    assert sorted(m["To"] for m in digests(smtp)) == [ALICE, CAROL]
    assert BOB not in result.stdout + result.stderr


def test_send_without_confirmed_readers_sends_nothing(
    panel_cli: Callable[..., Result], smtp: SmtpSink, reader: Callable[[str, bool], None]
) -> None:
    """Only pending readers: nothing is sent, and the command says so."""
    reader(BOB, False)
    result = send(panel_cli, smtp)
    assert result.code == 0 and "no confirmed subscribers" in result.stdout
    assert digests(smtp) == []


def test_send_needs_the_signing_secret(
    panel_cli: Callable[..., Result], smtp: SmtpSink, seeded: Path
) -> None:
    """Without PANEL_SECRET_KEY no unsubscribe link can be made: one line, nothing sent."""
    env = {"PANEL_SMTP_URL": smtp.url, "PANEL_BASE_URL": BASE}
    result = panel_cli("digest", "--send", env=env)
    assert result.code == 2 and "PANEL_SECRET_KEY is not set" in result.stderr


def test_send_needs_the_sites_public_url(
    panel_cli: Callable[..., Result], smtp: SmtpSink, seeded: Path
) -> None:
    """Mailed links must point at the live site: --send without --base-url is one line."""
    env = {"PANEL_SMTP_URL": smtp.url, "PANEL_SECRET_KEY": SECRET}
    result = panel_cli("digest", "--send", env=env)
    assert result.code == 2 and "--base-url or PANEL_BASE_URL" in result.stderr


def test_nothing_reviewed_in_the_span_sends_nothing(
    panel_cli: Callable[..., Result], smtp: SmtpSink, isolated_env: Path
) -> None:
    """A week without runs sends no empty digest."""
    store = Store(isolated_env)
    store.save_run(make_run("r-old", [verdict("builder", 70)], created_at=ago(days=40)))
    sid = Subscribers(store).subscribe(ALICE).subscriber.id
    Subscribers(store).confirm(sid)
    store.close()
    result = send(panel_cli, smtp)
    assert result.code == 0 and "nothing was reviewed in the last 7d" in result.stderr
    assert smtp.messages == []


# each digest once ------------------------------------------------------------------------------


def confirm_readers(home: Path, *addresses: str) -> list[str]:
    """Confirmed subscribers straight in the store of the test's backend; their ids."""
    store = open_store(home)
    try:
        book = Subscribers(store)
        ids = [book.subscribe(address).subscriber.id for address in addresses]
        for sid in ids:
            book.confirm(sid)
        return ids
    finally:
        store.close()


def sends(home: Path) -> list[tuple[str, str, str]]:
    """The digest log as the store holds it."""
    store = open_store(home)
    try:
        rows = store.db.execute("SELECT * FROM digest_sends").fetchall()
        return [(r["digest"], r["subscriber_id"], r["sent_at"]) for r in rows]
    finally:
        store.close()


def test_a_second_send_of_the_same_digest_mails_nobody(
    backend: str, seeded: Path, panel_cli: Callable[..., Result], smtp: SmtpSink
) -> None:
    """Sent once, the same digest (asked again, or with a span that shows the same runs) goes
    to nobody, in one line; the log holds subscriber ids and no address."""
    ids = confirm_readers(seeded, ALICE, BOB, CAROL)
    first = send(panel_cli, smtp)
    assert first.code == 0, first.stderr
    assert "digest: sent 3, already sent 0, failed 0" in first.stdout
    for args in ((), ("--since", "8d")):
        again = send(panel_cli, smtp, *args)
        assert again.code == 0, again.stderr
        assert again.stdout.startswith("digest: sent 0, already sent 3, failed 0, through ")
        assert len(again.stdout.splitlines()) == 1
    assert len(digests(smtp)) == 3
    log = sends(seeded)
    assert sorted(sid for _, sid, _ in log) == sorted(ids)
    assert len({key for key, _, _ in log}) == 1
    assert not any("@" in value for row in log for value in row)


def test_a_subscriber_refused_the_first_time_gets_it_the_second(
    backend: str, seeded: Path, panel_cli: Callable[..., Result], smtp: SmtpSink
) -> None:
    """A mail the server refused is not recorded: the next send goes to that subscriber only."""
    confirm_readers(seeded, ALICE, BOB, CAROL)
    smtp.collector.refuse.add(BOB)
    first = send(panel_cli, smtp)
    assert first.code == 1 and "sent 2, already sent 0, failed 1" in first.stdout
    assert "the next --send tries them again" in first.stderr
    smtp.collector.refuse.clear()
    second = send(panel_cli, smtp)
    assert second.code == 0, second.stderr
    assert "sent 1, already sent 2, failed 0" in second.stdout
    assert sorted(m["To"] for m in digests(smtp)) == [ALICE, BOB, CAROL]


def test_a_send_killed_midway_mails_nobody_twice(
    backend: str,
    seeded: Path,
    panel_cli: Callable[..., Result],
    smtp: SmtpSink,
    tmp_path: Path,
) -> None:
    """kill -9 while the second mail is in flight: the first was recorded when the server took
    it, so the next send mails the other two only."""
    confirm_readers(seeded, ALICE, BOB, CAROL)
    smtp.collector.hold_after = 1
    proc = subprocess.Popen(
        [PANEL, "digest", "--send"],
        env={**os.environ, **send_env(smtp)},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        smtp.wait_held(1)  # the first accepted (and so recorded), the second not answered yet
        proc.kill()
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(digests(smtp)) == 1 and len(sends(seeded)) == 1
    smtp.collector.hold_after = None
    smtp.collector.release.set()
    again = send(panel_cli, smtp)
    assert again.code == 0, again.stderr
    assert "sent 2, already sent 1, failed 0" in again.stdout
    assert sorted(m["To"] for m in digests(smtp)) == [ALICE, BOB, CAROL]


def test_send_purges_pending_subscriptions_whose_link_expired(
    backend: str, seeded: Path, panel_cli: Callable[..., Result], smtp: SmtpSink
) -> None:
    """An address asked for three days ago and never confirmed is deleted by --send; one asked
    for today stays pending, and a confirmed one is mailed."""
    confirm_readers(seeded, ALICE)
    store = open_store(seeded)
    try:
        book = Subscribers(store)
        book.subscribe(CAROL)
        book.subscribe(BOB, now=datetime.now(UTC) - timedelta(days=3))  # its link is long dead
    finally:
        store.close()
    result = send(panel_cli, smtp)
    assert result.code == 0 and "sent 1, already sent 0" in result.stdout
    assert [m["To"] for m in digests(smtp)] == [ALICE]
    store = open_store(seeded)
    try:
        assert Subscribers(store).counts() == {"confirmed": 1, "pending": 1}
    finally:
        store.close()
