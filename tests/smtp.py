"""A real SMTP server on 127.0.0.1 for the newsletter tests (aiosmtpd), collecting what it gets."""

from __future__ import annotations

import asyncio
import email
import re
import threading
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "mailer"
PASSWORD = "pw-Zq8-never-shown"
LINK = re.compile(r"https?://[^\s\"<>]+")


class Collector:
    """aiosmtpd handler: keeps each accepted message; refuses the recipients in `refuse`.

    With `hold_after = n`, every message after the first n is held: received whole but not
    answered until `release` is set, then refused with a 451 (never accepted): a mail in flight.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.changed = threading.Condition()
        self.hold_after: int | None = None
        self.held: list[EmailMessage] = []
        self.release = threading.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self.changed:
            hold = self.hold_after is not None and len(self.messages) >= self.hold_after
            (self.held if hold else self.messages).append(message)  # type: ignore[arg-type]
            self.changed.notify_all()
        if hold:
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
            return "451 4.3.0 Try again later"
        return "250 Message accepted for delivery"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers the 535


class _Controller(Controller):
    """Controller on port 0: the port the system chose is read back before the first connection."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """`with SmtpSink() as sink:` a server; `sink.url` for PANEL_SMTP_URL (with a login)."""

    def __init__(self) -> None:
        self.collector = Collector()
        self.controller = _Controller(
            self.collector,
            hostname="127.0.0.1",
            port=0,
            authenticator=authenticate,
            auth_require_tls=False,
        )

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.collector.release.set()  # a held message must not keep the server from stopping
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://{USER}:{PASSWORD}@127.0.0.1:{self.controller.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.collector.changed:
            return list(self.collector.messages)

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """The messages once there are `count` of them (an event, not a sleep)."""
        with self.collector.changed:
            if not self.collector.changed.wait_for(
                lambda: len(self.collector.messages) >= count, timeout
            ):
                raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")
            return list(self.collector.messages)

    def wait_held(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """The held messages once there are `count` of them (an event, not a sleep)."""
        with self.collector.changed:
            if not self.collector.changed.wait_for(
                lambda: len(self.collector.held) >= count, timeout
            ):
                raise AssertionError(f"expected {count} held message(s)")
            return list(self.collector.held)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def body(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())  # type: ignore[attr-defined]


def links(text: str, contains: str) -> list[str]:
    return [u for u in LINK.findall(text) if contains in u]
