"""The newsletter's routes for `panel serve`: the form, subscribe, confirm and unsubscribe.

Double opt-in: subscribing stores a pending address and mails a signed, expiring link; following
it confirms. Every page is the same whatever the address's state, and none shows the address, so
the form cannot be used to learn who subscribed. Unsubscribe links are capabilities (a signed id):
their POST needs no CSRF token, so a mail client's one-click unsubscribe (RFC 8058) works.

The subscribe form is guarded as every form of the site is (`panel.serve.security` and
`panel.serve.forms`): the site's double-submit CSRF token, the "subscribe" rate limit over a keyed
hash of the client's address (never the address), and the bounded form reader.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from panel.errors import ConfigError
from panel.pages.links import safe_href
from panel.serve.forms import Refusal, client_address, read_form, set_csrf_cookie
from panel.serve.newsletter import render
from panel.serve.newsletter.mail import (
    MailError,
    SmtpConfig,
    compose,
    recipient,
    send_all,
    smtp_config,
)
from panel.serve.newsletter.tokens import Tokens
from panel.serve.security import CSRF_COOKIE, CSRF_FIELD, Security
from panel.store.sqlite import Store
from panel.store.subscribers import Subscribers

log = logging.getLogger("panel.serve.newsletter")

PREFIX = "/newsletter"
# The longest address SMTP carries (RFC 5321 path limit less the brackets).
MAX_EMAIL_CHARS = 254
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",  # a token in the URL must not leave with a click
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
BAD_LINK = (
    "This link is not valid, or it has expired.",
    "Subscribe again to get a new one.",
)


def link(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}{PREFIX}{path}"


def confirmation_mail(
    config: SmtpConfig, tokens: Tokens, base_url: str, subscriber_id: str, email: str
) -> Any:
    """The opt-in mail: the confirm link, and (as every mail) an unsubscribe link."""
    unsubscribe_url = link(base_url, f"/unsubscribe/{tokens.unsubscribe(subscriber_id)}")
    context = {
        "confirm_url": link(base_url, f"/confirm/{tokens.confirm(subscriber_id)}"),
        "unsubscribe_url": unsubscribe_url,
        "hours": int(tokens.confirm_max_age / timedelta(hours=1)),
    }
    return compose(
        config,
        recipient(email),
        "Confirm your subscription to panel's weekly verdicts",
        render.text("confirm.txt", **context),
        render.html("confirm.html", **context),
        unsubscribe_url,
    )


def checked_email(raw: str) -> str:
    """The address as it is stored (normalised, lower case), or ValueError with what to fix.

    The message never quotes the input: pages show no address, not even a mistyped one.
    """
    value = raw.strip()
    if not value:
        raise ValueError("Enter your email address.")
    if len(value) > MAX_EMAIL_CHARS:
        raise ValueError(f"That address is longer than {MAX_EMAIL_CHARS} characters.")
    try:
        # no DNS from a form post; no SMTPUTF8: a mail header here takes an ASCII local part only
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        if _valid_with_smtputf8(value):
            raise ValueError(
                "This list can mail only addresses with only ASCII letters before the @."
            ) from None
        raise ValueError("That is not a valid email address (like name@example.com).") from None
    return str(checked.normalized).lower()


def _valid_with_smtputf8(value: str) -> bool:
    """Whether the address is valid once non-ASCII letters before the @ are allowed."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


class _Held:
    """The store for one operation: the one given on its own thread; on any other thread a second
    connection (`Store.another`), closed after the operation, as an SQLite connection serves only
    the thread that made it. Subscriptions are rare: a connection each costs nothing that counts."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.owner: int | None = threading.get_ident()

    def _lost(self) -> bool:
        """Whether the given store's connection is gone (its database restarted): from then on
        every operation opens a connection of its own. A connection tells it is lost only once
        used, so it is tried first (subscriptions are rare)."""
        with suppress(*self.store._write_errors):
            self.store.db.execute("SELECT 1")
        if self.store.connection_lost():
            self.owner = None
        return self.owner is None

    @contextmanager
    def subscribers(self) -> Iterator[Subscribers]:
        if threading.get_ident() == self.owner and not self._lost():
            yield Subscribers(self.store)
            return
        other = self.store.another()
        try:
            yield Subscribers(other)
        finally:
            other.close()


def newsletter_routes(
    store: Store,
    *,
    secret: bytes,
    smtp_url: str | None,
    base_url: str,
    security: Security | None = None,
) -> list[BaseRoute]:
    """The routes under /newsletter. `store` must be writable; `base_url` is the site's public
    URL, which the mailed links start with. Without `smtp_url` the form says it is not set up.
    `secret` signs the mailed links; `security` (the site's, so one CSRF cookie and one limiter
    serve every form) checks the form, else one is made from `secret`.

    A malformed `smtp_url` or `base_url` is a ConfigError now, not at the first subscriber.
    """
    if safe_href(base_url) is None:
        raise ConfigError(f"base URL {base_url!r}: give an absolute http(s) URL")
    config = smtp_config(smtp_url) if smtp_url else None
    tokens = Tokens(secret)
    sec = security or Security.from_secret(secret)
    held = _Held(store)
    home = base_url.rstrip("/") + "/"
    secure = base_url.lower().startswith("https://")

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = render.html(template, home=home, **context)
        return HTMLResponse(body, status_code=status, headers=HEADERS)

    def message(title: str, lines: tuple[str, ...], status: int = 200, **extra: Any) -> Response:
        extra.setdefault("form_action", None)
        extra.setdefault("form_button", "")
        return page("message.html", status, title=title, lines=lines, **extra)

    def form_page(request: Request, error: str | None = None, status: int = 200) -> Response:
        token, fresh = sec.csrf.current(request.cookies.get(CSRF_COOKIE))
        response = page(
            "subscribe.html",
            status,
            title="Weekly AI tool verdicts",
            error=error,
            available=config is not None,
            action=f"{PREFIX}/subscribe",
            csrf=token,
            max_length=MAX_EMAIL_CHARS,
        )
        if fresh:
            set_csrf_cookie(response, token, secure=secure)
        return response

    async def show_form(request: Request) -> Response:
        return form_page(request)

    async def subscribe(request: Request) -> Response:
        if config is None:
            return message("Not available", ("The newsletter is not set up on this site.",), 503)
        if not sec.limiter.hit("subscribe", sec.addresses.key(client_address(request))):
            response = message(
                "Too many tries", ("Too many subscribe attempts; wait a minute and try again.",)
            )
            response.status_code = 429
            response.headers["Retry-After"] = "60"
            return response
        try:
            form = await read_form(request)
        except Refusal as exc:  # 413, 415 or 400: shown on the newsletter's own page
            return message("Not sent", (exc.message,), exc.status)
        if not sec.csrf.check(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            return form_page(request, "The form had expired; please send it again.", 403)
        try:
            email = checked_email(form.get("email", ""))
        except ValueError as exc:
            return form_page(request, str(exc), 400)
        with held.subscribers() as subscribers:
            done = subscribers.subscribe(email, pending_for=tokens.confirm_max_age)
        sid = done.subscriber.id
        if done.send_confirmation:
            mail = confirmation_mail(config, tokens, base_url, sid, email)
            try:
                report = await run_in_threadpool(send_all, config, [mail])
            except MailError as exc:
                log.warning("newsletter: confirmation for subscriber %s not sent: %s", sid, exc)
                report = None
            if report is None or report.failed:
                return message(
                    "Not sent",
                    ("We could not send the confirmation mail just now; please try again later.",),
                    503,
                )
            with held.subscribers() as subscribers:
                subscribers.mailed(sid)
            log.info("newsletter: confirmation mailed to subscriber %s", sid)
        return message(
            "Check your inbox",
            (
                "If the address can get mail, a link to confirm your subscription is on its way.",
                "Follow it within 48 hours; nothing is sent until you do.",
            ),
        )

    async def confirm(request: Request) -> Response:
        sid = tokens.confirmed_id(request.path_params["token"])
        confirmed = None
        if sid is not None:
            with held.subscribers() as subscribers:
                confirmed = subscribers.confirm(sid)
        if sid is None or confirmed is None:
            return message("Link not valid", BAD_LINK, 400)
        log.info("newsletter: subscriber %s confirmed", sid)
        return message(
            "You are subscribed",
            ("The next digest of verdicts and comparisons will be in your inbox.",),
        )

    def unsubscribe_target(request: Request) -> str | None:
        sid = tokens.unsubscribed_id(request.path_params["token"])
        if sid is None:
            return None
        with held.subscribers() as subscribers:
            return sid if subscribers.get(sid) is not None else None

    async def unsubscribe_form(request: Request) -> Response:
        # a GET changes nothing: mail scanners open links; the button (or one-click) POSTs
        if unsubscribe_target(request) is None:
            return message("Link not valid", ("This unsubscribe link is not valid.",), 400)
        return message(
            "Unsubscribe",
            ("Stop the weekly verdicts at this address?",),
            form_action=request.url.path,
            form_button="Unsubscribe",
        )

    async def unsubscribe(request: Request) -> Response:
        sid = unsubscribe_target(request)
        if sid is None:
            return message("Link not valid", ("This unsubscribe link is not valid.",), 400)
        with held.subscribers() as subscribers:
            subscribers.unsubscribe(sid)
        log.info("newsletter: subscriber %s unsubscribed", sid)
        return message("Unsubscribed", ("You will get no more mail from us.",))

    handlers: list[tuple[str, Callable[[Request], Any], list[str]]] = [
        ("", show_form, ["GET"]),
        ("/subscribe", subscribe, ["POST"]),
        ("/confirm/{token}", confirm, ["GET"]),
        ("/unsubscribe/{token}", unsubscribe_form, ["GET"]),
        ("/unsubscribe/{token}", unsubscribe, ["POST"]),
    ]
    return [Route(PREFIX + path, fn, methods=methods) for path, fn, methods in handlers]
