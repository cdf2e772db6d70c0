"""The newsletter's pure parts: PANEL_SMTP_URL and PANEL_MAIL_FROM, the mails it builds, --since."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from panel.errors import ConfigError, InputError
from panel.serve.newsletter import parse_since, send_all, smtp_config
from panel.serve.newsletter.mail import compose, recipient
from tests.smtp import SmtpSink, body


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.mark.parametrize(
    ("url", "port", "security"),
    [
        ("smtp://127.0.0.1", 25, "plain"),
        ("smtp+starttls://mail.example", 587, "starttls"),
        ("smtps://mail.example", 465, "tls"),
        ("SMTPS://mail.example:2465", 2465, "tls"),
    ],
)
def test_smtp_url_schemes_and_default_ports(url: str, port: int, security: str) -> None:
    """Each scheme has its port and kind of TLS; an explicit port wins."""
    config = smtp_config(url)
    assert (config.port, config.security) == (port, security)


def test_smtp_url_credentials_are_unquoted_and_never_shown() -> None:
    """user:pass are percent-decoded for the login; `where` and repr show neither password."""
    config = smtp_config("smtps://me%40corp:p%3Ass@mail.example")
    assert (config.username, config.password) == ("me@corp", "p:ss")
    assert "p:ss" not in config.where + repr(config)
    assert config.where == "smtps://mail.example:465"


@pytest.mark.parametrize("sender", ["not an address", "a@", "x@y, z@w"])
def test_a_bad_sender_is_one_line(sender: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PANEL_MAIL_FROM must be one address (a display name may come with it)."""
    monkeypatch.setenv("PANEL_MAIL_FROM", sender)
    with pytest.raises(ConfigError, match="PANEL_MAIL_FROM"):
        smtp_config("smtp://127.0.0.1")


def test_a_mail_has_text_html_and_one_click_unsubscribe() -> None:
    """compose builds multipart/alternative with both parts and the RFC 8058 headers."""
    config = smtp_config("smtp://127.0.0.1", sender="panel <news@verdicts.example>")
    url = "https://verdicts.example/newsletter/unsubscribe/t0k"
    mail = compose(config, recipient("r@example.com"), "Hi", "text body", "<p>html</p>", url)
    assert mail.get_content_type() == "multipart/alternative"
    assert body(mail).strip() == "text body" and "<p>html</p>" in body(mail, "html")
    assert mail["List-Unsubscribe"] == f"<{url}>"
    assert mail["Message-ID"].endswith("@verdicts.example>")


@pytest.mark.parametrize("bad", ["r@example.com\r\nBcc: x@evil.example", "two@a.com, b@c.com"])
def test_a_recipient_cannot_smuggle_headers_or_addresses(bad: str) -> None:
    """An address with a line break or a list is refused before it reaches a header."""
    with pytest.raises(ValueError):
        recipient(bad)


def test_a_refused_recipient_is_counted_and_the_next_goes(smtp: SmtpSink) -> None:
    """send_all counts the refusal and keeps the connection for the others."""
    config = smtp_config(smtp.url)
    smtp.collector.refuse.add("b@example.com")
    mails = [
        compose(config, recipient(f"{n}@example.com"), "s", "t", None, "https://x.example/u")
        for n in "abc"
    ]
    report = send_all(config, mails)
    assert (report.sent, report.failed) == (2, 1)
    assert [m["To"] for m in smtp.wait_for(2)] == ["a@example.com", "c@example.com"]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("7d", timedelta(days=7)),
        ("36h", timedelta(hours=36)),
        ("2w", timedelta(weeks=2)),
        ("1h", timedelta(hours=1)),
        ("365D", timedelta(days=365)),
    ],
)
def test_since_spans(text: str, span: timedelta) -> None:
    """--since takes hours, days and weeks."""
    assert parse_since(text) == span


@pytest.mark.parametrize("text", ["0h", "366d", "53w", "7", "7m", "", "1e3d", "９d"])
def test_since_out_of_bounds_is_refused(text: str) -> None:
    """Below an hour, above a year, or not a span: one line saying what to give."""
    with pytest.raises(InputError, match="1h to 365d"):
        parse_since(text)
