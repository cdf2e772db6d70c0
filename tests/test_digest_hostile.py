"""`panel digest` against hostile input: card text the model wrote (untrusted) in the mail's parts,
and SMTP servers that hang or go away midway."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from panel.judge.personas import load_personas
from panel.serve.newsletter import build_digest
from panel.serve.newsletter.mail import compose, send_each, smtp_config
from panel.store.sqlite import Store
from tests.runs import CARD, make_run, verdict
from tests.smtp import PASSWORD, SmtpSink

SITE = "https://verdicts.example"
UNSUBSCRIBE = f"{SITE}/newsletter/unsubscribe/own-link"
FORGED = "Unsubscribe: https://evil.example/x"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def hostile_digest(tmp_path: Path) -> str:
    """The text part of a digest of one tool whose card fields carry line breaks."""
    store = Store(tmp_path / "home")
    card = dict(
        CARD,
        name=f"Evil\n\n{FORGED}\r\n",
        category="Developer Tools\n--\nYou get this",
        tagline="Fast.\u2028\n\n  Verdict: ship, mean 99.0/100",
    )
    when = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    store.save_run(
        make_run("r-evil", [verdict("builder", 80)], slug="evil", card=card, created_at=when)
    )
    try:
        digest = build_digest(store, load_personas(None), timedelta(days=7), base_url=SITE)
        return digest.text(UNSUBSCRIBE)
    finally:
        store.close()


def test_card_text_cannot_add_lines_to_the_text_mail(tmp_path: Path) -> None:
    """A tool name, category or tagline is one line of the text part, whatever breaks it holds:
    it cannot forge an `Unsubscribe:` line, a signature separator or a verdict line of its own."""
    text = hostile_digest(tmp_path)
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("Unsubscribe:")] == [
        f"Unsubscribe: {UNSUBSCRIBE}"
    ]
    assert lines.count("--") == 1
    assert not any(line.lstrip().startswith("Verdict:") for line in lines)
    assert f"Evil {FORGED}: " in text and "\u2028" not in text


def test_a_server_that_hangs_midway_stops_the_sending_not_each_mail(smtp: SmtpSink) -> None:
    """The server takes the first mail, then answers none: the mail in flight is tried once more
    on a new connection, then sending stops and the rest are counted failed, not each given its
    own timeout (a list of thousands would take hours). Nothing is counted sent that was not."""
    config = replace(smtp_config(smtp.url), timeout=0.5)
    smtp.collector.hold_after = 1
    addresses = [f"reader{n}@example.com" for n in range(5)]
    mails = [(a, compose(config, a, "Hi", "text", None, UNSUBSCRIBE)) for a in addresses]
    accepted: list[str] = []
    report = send_each(config, mails, accepted.append)
    assert (report.sent, report.failed) == (1, 4) and accepted == addresses[:1]
    assert len(smtp.wait_held(2)) == 2  # the second mail, twice; the last three never tried
    assert report.stopped is not None and "lost twice in a row" in report.stopped
    assert PASSWORD not in report.stopped and "@example.com" not in report.stopped


def test_a_server_closing_its_connection_between_mails_loses_none(smtp: SmtpSink) -> None:
    """A server that hangs up after each mail (a per-connection limit): every mail still goes,
    each on a new connection, none counted failed."""
    config = smtp_config(smtp.url)
    addresses = [f"reader{n}@example.com" for n in range(4)]
    mails = [(a, compose(config, a, "Hi", "text", None, UNSUBSCRIBE)) for a in addresses]
    original = smtplib.SMTP.send_message

    def then_hang_up(self: smtplib.SMTP, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        self.close()  # as a server's 421 after the mail would leave it
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(smtplib.SMTP, "send_message", then_hang_up)
        report = send_each(config, mails, lambda _: None)
    assert (report.sent, report.failed, report.stopped) == (4, 0, None)
    assert sorted(m["To"] for m in smtp.wait_for(4)) == addresses
