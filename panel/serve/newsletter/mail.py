"""Mail out: the SMTP server named by `PANEL_SMTP_URL`, and messages built by the stdlib's `email`.

`smtp://user:pass@host:2525` sends in the clear (a local relay), `smtp+starttls://` upgrades with
STARTTLS, `smtps://` is TLS from the start; the sender is `PANEL_MAIL_FROM`. Messages name the
server without its password, and a refused recipient is counted, never named: the server's reply
may quote the address.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from panel.errors import ConfigError
from panel.store.connection import redact

SMTP_URL_ENV = "PANEL_SMTP_URL"
MAIL_FROM_ENV = "PANEL_MAIL_FROM"
DEFAULT_SENDER = "panel <newsletter@localhost>"
DEFAULT_SMTP_TIMEOUT_S = 30.0
K = TypeVar("K")  # what the caller knows a message by (`send_each`)
SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


class MailError(ConfigError):
    """The SMTP server cannot be reached or refuses us: nothing more can be sent."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # plain | starttls | tls
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_SMTP_TIMEOUT_S

    @property
    def where(self) -> str:
        """The server as messages name it: scheme, host and port, no credentials."""
        scheme = next(s for s, (_, sec) in SCHEMES.items() if sec == self.security)
        return f"{scheme}://{self.host}:{self.port}"


def smtp_config(url: str | None, *, sender: str | None = None) -> SmtpConfig:
    """Read `PANEL_SMTP_URL` (given as `url`); missing or malformed is one line, never the password."""
    if not url:
        raise ConfigError(
            f"{SMTP_URL_ENV} is not set: give the mail server, e.g. "
            "smtp://user:pass@127.0.0.1:2525 or smtps://user:pass@mail.example:465"
        )
    shown = redact(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{SMTP_URL_ENV}={shown!r}: not a valid URL (bad port?)") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ConfigError(
            f"{SMTP_URL_ENV}={shown!r}: the scheme must be smtp://, smtp+starttls:// or smtps://"
        )
    if not parts.hostname:
        raise ConfigError(f"{SMTP_URL_ENV}={shown!r}: no host")
    default_port, security = SCHEMES[scheme]
    return SmtpConfig(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        sender=checked_sender(sender or os.environ.get(MAIL_FROM_ENV) or DEFAULT_SENDER),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def checked_sender(sender: str) -> str:
    """`PANEL_MAIL_FROM`: an address, optionally with a display name (`panel <news@x.org>`)."""
    message = EmailMessage()
    try:
        message["From"] = sender
        addresses = message["From"].addresses
    except (ValueError, IndexError):
        addresses = ()
    if len(addresses) != 1 or not addresses[0].domain:
        raise ConfigError(f"{MAIL_FROM_ENV}={sender!r}: not a mail address")
    return sender


def compose(
    config: SmtpConfig, to: str, subject: str, text: str, html: str | None, unsubscribe_url: str
) -> EmailMessage:
    """One mail with a text part (and an HTML alternative), carrying its own unsubscribe link in
    the body and as `List-Unsubscribe` with one-click POST (RFC 8058)."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = message["From"].addresses[0].domain
    message["Message-ID"] = make_msgid(domain=domain)
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def recipient(email: str) -> str:
    """An address as a `To:` header takes it (checked by the header registry)."""
    return str(Address(addr_spec=email))


@dataclass
class SendReport:
    """Counts only: a report names no address."""

    sent: int = 0
    failed: int = 0
    stopped: str | None = None  # why sending stopped before the last message (the server went)


def connect(config: SmtpConfig) -> smtplib.SMTP:
    """A logged-in connection; any failure is a MailError naming the server, not the password."""
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if config.security == "tls":
            client = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=context
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            if config.security == "starttls":
                client.starttls(context=context)
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise MailError(f"{config.where}: cannot send mail ({reason})") from None
    if config.username is None:
        return client
    try:
        client.login(config.username, config.password or "")
    except (OSError, smtplib.SMTPException) as exc:  # a refusal may also drop the connection
        _close(client)
        code = getattr(exc, "smtp_code", None)
        raise MailError(
            f"{config.where} refused the login" + (f" (SMTP {code})" if code else "")
        ) from None
    return client


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def send_all(config: SmtpConfig, messages: Iterable[EmailMessage]) -> SendReport:
    """Send each message; one that is refused is counted and the others still go."""
    return send_each(config, ((None, message) for message in messages), lambda _: None)


def send_each(
    config: SmtpConfig, mails: Iterable[tuple[K, EmailMessage]], accepted: Callable[[K], None]
) -> SendReport:
    """Send each (key, message); `accepted(key)` runs as soon as the server has taken that
    message, before the next is sent, so what it records survives a crash after it.

    A refused message is counted and the others still go. The first connection failing is a
    MailError (nothing was sent). A connection lost midway (a server closing idle or long
    connections) is opened again and the message tried once more on it; lost again, or not
    opened, the server is gone (down, or hanging until each timeout): sending stops there, the
    rest counted as failed and `stopped` saying why, rather than a timeout for every address.
    An exception from `accepted` stops the sending: what cannot be recorded is not repeated.
    """
    report = SendReport()
    client: smtplib.SMTP | None = connect(config)
    pending = iter(mails)
    try:
        for key, message in pending:
            for attempt in (1, 2):
                try:
                    if client is None:
                        client = connect(config)
                    client.send_message(message)
                except smtplib.SMTPServerDisconnected as exc:
                    _close(client)
                    client = None
                    if attempt == 1:
                        continue
                    report.stopped = _lost(config, exc)
                except smtplib.SMTPException:  # this recipient or this message, not the link
                    report.failed += 1  # (an OSError too: tried before the socket's own errors)
                except (OSError, MailError) as exc:
                    _close(client)
                    client = None
                    if attempt == 1 and not isinstance(exc, MailError):
                        continue
                    report.stopped = _lost(config, exc)
                else:
                    report.sent += 1
                    accepted(key)
                break
            if report.stopped is not None:
                report.failed += 1 + sum(1 for _ in pending)
                break
    finally:
        _close(client)
    return report


def _lost(config: SmtpConfig, exc: BaseException) -> str:
    """Why the server is taken for gone, in words that name no address and no password."""
    if isinstance(exc, MailError):
        return str(exc)
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]  # the client's words
    return f"{config.where}: the connection was lost twice in a row ({reason})"
