"""What both stores share below the SQL: the connection surface `Jobs` and `save_run(also=...)`
use, and the one-line refusal of a schema newer than this panel knows."""

from __future__ import annotations

from typing import Any, Protocol

from panel.errors import InputError


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
