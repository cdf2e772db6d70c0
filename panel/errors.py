"""Errors a user can cause and fix; the CLI prints them as one line and exits non-zero."""

from __future__ import annotations

# `typing.TYPE_CHECKING` without importing typing: the `panel` console script imports this module
# before it can catch a Ctrl-C (see `panel.cli.main`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


class PanelError(Exception):
    """A user-facing error: one readable line, never a traceback.

    `exit_code` 2 means bad input or setup (nothing was done); 1 means the work ran but did not
    complete (an incomplete panel).
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(PanelError):
    """A source, description, option or data file the user gave cannot be used."""


class ConfigError(PanelError):
    """The environment or configuration is missing something (a key, a persona file)."""


class APIError(PanelError):
    """The API refused the work in a way a retry will not fix (auth, bad request, quota)."""


class Retryable(APIError):
    """A failure worth retrying later (overloaded, 5xx, a dropped connection) that the SDK's own
    retries did not absorb; a scheduler with SDK retries off retries these itself."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers: Mapping[str, str] = dict(headers or {})  # the reply's rate-limit state


class RateLimited(Retryable):
    """HTTP 429: the API wants fewer requests; `retry_after` is its hint in seconds."""
