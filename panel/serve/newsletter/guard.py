"""What stands between the subscribe form and the outside world: a CSRF token, a rate limit per
client, and a bounded form reader. Private to the newsletter (the app's own helpers may replace it).

The CSRF check is a signed double submit: the form page sets a random cookie and puts its HMAC in
a hidden field; a POST must bring both, and only the server can make one from the other. Clients
are told apart by a keyed hash of their address, so no IP address is kept, even in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import parse_qsl

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

CSRF_COOKIE = "panel_newsletter_csrf"
CSRF_FIELD = "csrf"
# Subscribe attempts per client (address hash): a person retrying a typo fits, a script does not.
DEFAULT_SUBSCRIBE_LIMITS = "5/minute;30/hour"
# A form that holds an address and a token fits in this many bytes.
MAX_FORM_BYTES = 4096
MAX_FORM_FIELDS = 8


class FormError(Exception):
    """A body that is not a small urlencoded form: the response's status and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Guard:
    """CSRF tokens and rate limits keyed with the newsletter's secret."""

    def __init__(self, secret: bytes, *, limits: str = DEFAULT_SUBSCRIBE_LIMITS) -> None:
        self._key = hmac.new(secret, b"panel.newsletter.guard", hashlib.sha256).digest()
        self._limits = parse_many(limits)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    # CSRF ----------------------------------------------------------------------------------------

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(24)

    def csrf_token(self, nonce: str) -> str:
        """The hidden field's value for the cookie `nonce`."""
        return hmac.new(self._key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token or len(nonce) > 64 or len(token) > 64:
            return False
        return hmac.compare_digest(self.csrf_token(nonce), token)

    # rate limits ---------------------------------------------------------------------------------

    def client_key(self, request: Request) -> str:
        """A keyed hash of the client's address: stable for the limiter, useless to a reader."""
        host = request.client.host if request.client else ""
        return hmac.new(self._key, b"client:" + host.encode(), hashlib.sha256).hexdigest()[:32]

    def allow(self, key: str) -> bool:
        """Count one attempt for `key`; False once any of the limits is spent."""
        allowed = True
        for item in self._limits:  # every window counts the attempt, as a person would expect
            allowed = self._limiter.hit(item, "subscribe", key) and allowed
        return allowed


async def read_form(request: Request) -> dict[str, str]:
    """A small `application/x-www-form-urlencoded` body as a dict (the first value of each name).

    Read up to MAX_FORM_BYTES and no further, whatever Content-Length says, so a huge or endless
    body costs us nothing.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormError(415, "send the form as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(413, "the form is too large")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise FormError(400, "the form could not be read") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
