"""The newsletter: double opt-in subscriptions on the live site, and the weekly digest mail.

`newsletter_routes` mounts in `panel serve`'s app; `panel digest` renders and sends the digest.
"""

from __future__ import annotations

from panel.serve.newsletter.digest import Digest, build_digest, parse_since
from panel.serve.newsletter.mail import SmtpConfig, send_all, smtp_config
from panel.serve.newsletter.routes import newsletter_routes
from panel.serve.newsletter.tokens import Tokens

__all__ = [
    "Digest",
    "SmtpConfig",
    "Tokens",
    "build_digest",
    "newsletter_routes",
    "parse_since",
    "send_all",
    "smtp_config",
]
