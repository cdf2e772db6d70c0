"""What both stores share below the SQL: the connection surface `Jobs` and `save_run(also=...)`
use, the one-line refusal of a schema newer than this panel knows, and a database URL or libpq
connection string as messages show it (never its password)."""

from __future__ import annotations

import re
from typing import Any, Protocol
from urllib.parse import unquote

from panel.errors import InputError

# The password of a URL: in its authority (up to the last `@` before any query), or a parameter.
AUTHORITY_PASSWORD = re.compile(r"(://[^:/@?#]*:)([^?#]*)@")
PARAMETER_PASSWORD = re.compile(r"([?&]password=)([^&#]*)")
# A query parameter that carries a secret (`?key=`, `api_key=`, `token=`, `X-Amz-Signature=`...).
SECRET_PARAMETER = re.compile(
    r"([?&][^=&#]*(?:key|token|secret|password|passwd|pwd|sig|auth|credential)[^=&#]*=)([^&#]*)",
    re.IGNORECASE,
)
# A URL's whole userinfo (`user:token@`, or a bare `token@`), up to the last `@` of the authority.
USERINFO = re.compile(r"(://)[^/?#]*@")
# The password of a libpq key=value string (`password = 'a \\'b'`), read as libpq reads it: spaces
# around `=`, a value single-quoted or up to the next space, `\\` escaping the next character.
KEYWORD_PASSWORD = re.compile(
    r"(?<!\S)(password\s*=\s*)('(?:\\.|[^'\\])*['\\]?|(?:\\.|[^\s\\])*\\?)",
    re.IGNORECASE | re.DOTALL,
)


class Connection(Protocol):
    """The DB-API surface the code uses: `?` placeholders, rows readable by name and by index.

    `sqlite3.Connection` is one; the PostgreSQL store wraps psycopg's connection into another.
    """

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    def executescript(self, sql: str, /) -> Any: ...

    def close(self) -> None: ...


class SchemaTooNew(InputError):
    """A database written by a newer `panel`: reading or writing it could lose what it added."""

    def __init__(self, where: str, found: int, known: int) -> None:
        super().__init__(
            f"{where}: schema version {found} is newer than this panel knows ({known}); "
            "upgrade panel to use it"
        )


class SchemaTooOld(InputError):
    """A shared database behind this panel: `panel db upgrade` migrates it, deliberately."""

    def __init__(self, where: str, found: int, known: int) -> None:
        super().__init__(
            f"{where}: schema version {found} is older than this panel's ({known}); "
            "run `panel db upgrade`"
        )


def redact(url: str) -> str:
    """The URL (or key=value connection string) as messages show it: never its password."""
    url = AUTHORITY_PASSWORD.sub(r"\1***@", url)
    url = PARAMETER_PASSWORD.sub(r"\1***", url)
    return KEYWORD_PASSWORD.sub(r"\1***", url)


def redact_endpoint(url: str) -> str:
    """An API endpoint (`ANTHROPIC_BASE_URL`) as it may be kept, keyed and shown: no userinfo
    (a gateway's `user:token@`) and no secret query parameter. The file registry keys its rows by
    this form, so a token never lands in the data home or the shared database."""
    url = USERINFO.sub(r"\1***@", url)
    return SECRET_PARAMETER.sub(r"\1***", redact(url))


def scrub(message: str, url: str) -> str:
    """A message about `url` without its password: a driver's error may quote the URL, or the
    part of it that it could not parse."""
    message = message.replace(url, redact(url))
    found = [
        m.group(2) for m in (*AUTHORITY_PASSWORD.finditer(url), *PARAMETER_PASSWORD.finditer(url))
    ]
    for secret in {s for raw in found for s in (raw, unquote(raw)) if s}:
        message = message.replace(secret, "***")
    return message
