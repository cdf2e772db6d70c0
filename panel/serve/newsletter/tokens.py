"""Signed links: a confirmation link that expires, an unsubscribe link that does not.

A token holds a subscriber's random id and an HMAC-SHA256 signature (itsdangerous), never the
address: links end up in access logs, browser history and forwarded mails. Each kind of link has
its own salt, so an unsubscribe token cannot be replayed as a confirmation.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from panel.config import BASE_URL_ENV, DEFAULT_CONFIRM_MAX_AGE, SECRET_ENV
from panel.errors import ConfigError

__all__ = ["BASE_URL_ENV", "DEFAULT_CONFIRM_MAX_AGE", "SECRET_ENV", "Tokens"]

# The shortest secret we sign with: anything less can be guessed offline from one link.
MIN_SECRET_BYTES = 16
# A token longer than any we make is refused before it is parsed.
MAX_TOKEN_CHARS = 200
CONFIRM_SALT = "panel.newsletter.confirm"
UNSUBSCRIBE_SALT = "panel.newsletter.unsubscribe"


class Tokens:
    """Make and check the two kinds of newsletter link token with one secret."""

    def __init__(
        self, secret: bytes, *, confirm_max_age: timedelta = DEFAULT_CONFIRM_MAX_AGE
    ) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(f"the newsletter secret must be at least {MIN_SECRET_BYTES} bytes")
        signer = {"digest_method": hashlib.sha256}
        self._confirm = URLSafeTimedSerializer(secret, salt=CONFIRM_SALT, signer_kwargs=signer)
        self._unsubscribe = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT, signer_kwargs=signer)
        self.confirm_max_age = confirm_max_age

    def confirm(self, subscriber_id: str) -> str:
        return str(self._confirm.dumps(subscriber_id))

    def unsubscribe(self, subscriber_id: str) -> str:
        return str(self._unsubscribe.dumps(subscriber_id))

    def confirmed_id(self, token: str) -> str | None:
        """The subscriber id a confirmation token names; None if forged, altered or expired."""
        if len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            value = self._confirm.loads(token, max_age=int(self.confirm_max_age.total_seconds()))
        except BadData:
            return None
        return value if isinstance(value, str) else None

    def unsubscribed_id(self, token: str) -> str | None:
        """The subscriber id an unsubscribe token names; None if forged or altered."""
        if len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            value = self._unsubscribe.loads(token)
        except BadData:
            return None
        return value if isinstance(value, str) else None
