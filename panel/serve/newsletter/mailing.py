"""Mailing a digest to each confirmed subscriber once: the store's digest log says who has it.

Each mail is recorded the moment the SMTP server accepts it (`send_each`), so a second send of
the same digest, or a send after a crash, goes only to those not yet recorded: the ones refused
last time, new confirmed subscribers, and at most the one mail that was in flight at a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

from panel.errors import PanelError
from panel.serve.newsletter.digest import Digest
from panel.serve.newsletter.mail import SmtpConfig, compose, recipient, send_each
from panel.serve.newsletter.routes import link
from panel.serve.newsletter.tokens import Tokens
from panel.store.digest_log import DigestLog
from panel.store.sqlite import Store
from panel.store.subscribers import Subscriber


@dataclass
class DigestReport:
    """Counts only, never an address."""

    sent: int = 0
    already: int = 0  # recorded as sent this digest before: not mailed again
    failed: int = 0  # refused by the server, or an address no header takes: tried next time
    stopped: str | None = None  # why sending stopped early (the server went away), if it did


class SendNotRecorded(PanelError):
    """The server took a mail the store could not record: sending stops there, as every further
    mail would be sent again by the next `--send`."""

    exit_code = 1


def send_digest(
    store: Store,
    digest: Digest,
    subscribers: list[Subscriber],
    *,
    config: SmtpConfig,
    tokens: Tokens,
    site: str,
) -> DigestReport:
    """Mail `digest` to each of `subscribers` it has not reached yet, one mail each with their
    own unsubscribe link, recording each one the server accepts."""
    log = DigestLog(store)
    key = digest.key
    done = log.sent_to(key)
    due = [s for s in subscribers if s.id not in done]
    report = DigestReport(already=len(subscribers) - len(due))
    if not due:
        return report

    def mails() -> Iterator[tuple[str, EmailMessage]]:
        for subscriber in due:
            unsubscribe = link(site, f"/unsubscribe/{tokens.unsubscribe(subscriber.id)}")
            try:
                to = recipient(subscriber.email)
            except ValueError:  # stored by something that did not check it: counted, not named
                report.failed += 1
                continue
            text, html = digest.text(unsubscribe), digest.html(unsubscribe)
            yield subscriber.id, compose(config, to, digest.subject, text, html, unsubscribe)

    def accepted(subscriber_id: str) -> None:
        try:
            log.record(key, subscriber_id)
        except store._write_errors as exc:
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            reason = getattr(exc, "strerror", None) or lines[0]
            raise SendNotRecorded(
                f"digest: a mail {config.where} accepted could not be recorded in "
                f"{store.where} ({reason}); stopped, so that the next --send repeats only it"
            ) from None

    smtp = send_each(config, mails(), accepted)
    report.sent = smtp.sent
    report.failed += smtp.failed
    report.stopped = smtp.stopped
    return report
