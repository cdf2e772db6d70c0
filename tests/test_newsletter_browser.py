"""The newsletter end to end in a real browser: Debian's chromium through Playwright against the
real `panel serve`, which mails through a real SMTP server on 127.0.0.1 (aiosmtpd).

A reader subscribes, follows the link in the confirmation mail, then unsubscribes from the link
the same mail carries; the address shows on no page and in none of the server's output.
Screenshots go to artifacts/screenshots/newsletter-*.png.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from panel.store.sqlite import Store
from tests.conftest import PANEL
from tests.serve_helpers import seed
from tests.smtp import SmtpSink, body, links
from tests.test_serve_browser import no_overflow, open_page
from tests.test_site_browser import WIDTHS, artifacts

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ADDRESS = "reader.browser@example.com"
SECRET_KEY = "test-secret-key-0123456789abcdef"  # 32 characters


class Live:
    """A running `panel serve`: its URL, and everything it wrote once it has stopped."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url
        self.first_line = ""

    def stop(self) -> str:
        """Stop the server and return all it wrote on stdout and stderr."""
        if self.proc.poll() is None:
            self.proc.terminate()
        out, err = self.proc.communicate(timeout=30)
        return self.first_line + out + err


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def live(isolated_env: Path, smtp: SmtpSink) -> Iterator[Live]:
    """`panel serve --port 0` over a seeded home, mailing through `smtp`; read from the line it
    prints once the socket listens."""
    store = Store(isolated_env)
    seed(store)
    store.close()
    env = {
        **os.environ,
        "COLUMNS": "200",
        "PANEL_SMTP_URL": smtp.url,
        "PANEL_SECRET_KEY": SECRET_KEY,
        "PANEL_MAIL_FROM": "panel <news@example.org>",
    }
    proc = subprocess.Popen(
        [PANEL, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    server = Live(proc, line.split()[1] if line.startswith("serving http://") else "")
    server.first_line = line
    try:
        assert line.startswith("serving http://127.0.0.1:"), line + server.stop()
        yield server
    finally:
        if proc.poll() is None:
            server.stop()


@pytest.mark.parametrize("width", WIDTHS)
def test_subscribe_confirm_and_unsubscribe(
    browser: object,
    live: Live,
    smtp: SmtpSink,
    width: int,
) -> None:
    """Subscribe, confirm from the mail, unsubscribe from it: no address on a page or in logs."""
    shots = artifacts()
    page, problems = open_page(browser, live.url, width)
    page.goto(live.url + "newsletter")  # type: ignore[attr-defined]
    assert no_overflow(page) <= 0
    page.screenshot(path=str(shots / f"newsletter-subscribe-{width}.png"), full_page=True)  # type: ignore[attr-defined]
    page.get_by_label("Email address").fill(ADDRESS)  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.get_by_role("button", name="Subscribe").click()  # type: ignore[attr-defined]
    assert page.get_by_role("heading", name="Check your inbox").is_visible()  # type: ignore[attr-defined]
    assert ADDRESS not in page.content().lower()  # type: ignore[attr-defined]

    mail = smtp.wait_for(1)[0]
    assert mail["To"] == ADDRESS
    text = body(mail)
    (confirm,) = links(text, "/newsletter/confirm/")
    assert confirm.startswith(live.url)
    page.goto(confirm)  # type: ignore[attr-defined]
    assert page.get_by_role("heading", name="You are subscribed").is_visible()  # type: ignore[attr-defined]
    assert ADDRESS not in page.content().lower()  # type: ignore[attr-defined]
    assert no_overflow(page) <= 0
    page.screenshot(path=str(shots / f"newsletter-confirmed-{width}.png"), full_page=True)  # type: ignore[attr-defined]

    (unsubscribe,) = links(text, "/newsletter/unsubscribe/")
    assert mail["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert links(body(mail, "html"), "/newsletter/unsubscribe/") == [unsubscribe]
    page.goto(unsubscribe)  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.get_by_role("button", name="Unsubscribe").click()  # type: ignore[attr-defined]
    assert page.get_by_role("heading", name="Unsubscribed").is_visible()  # type: ignore[attr-defined]
    assert ADDRESS not in page.content().lower()  # type: ignore[attr-defined]
    assert problems == []
    assert len(smtp.messages) == 1  # confirming and unsubscribing mail nothing more

    output = live.stop()
    assert "serving http://" in output
    assert ADDRESS not in output.lower()
