"""`panel db upgrade`: bring the shared PostgreSQL store's schema up to this panel's version."""

from __future__ import annotations

import typer
from rich.markup import escape

from panel.cli.app import DbOpt, HomeOpt, app, out
from panel.config import resolve
from panel.store.open import database_url
from panel.store.sqlite import Store

db_app = typer.Typer(
    help="The store's schema: `panel db upgrade` applies the migrations it lacks.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade_cmd(db: DbOpt = None, home: HomeOpt = None) -> None:
    """Apply the missing schema migrations (a newer schema than this panel knows is refused)."""
    settings = resolve(home=home)
    url = database_url(db)
    if url is None:  # SQLite migrates itself when a command opens the data home for writing
        store = Store(settings.home)
        before = after = store.schema_version()
    else:
        from panel.store.postgres import PgStore

        store = PgStore(url, settings.home, migrating=True)
        before, after = store.upgrade()
    store.close()
    where = escape(store.where)
    if before == after:
        out.print(f"{where}: schema version {after}, up to date", highlight=False)
    else:
        out.print(f"{where}: schema version {before} -> {after}", highlight=False)
