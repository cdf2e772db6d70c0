"""`panel db upgrade`: bring the shared PostgreSQL store's schema up to this panel's version."""

from __future__ import annotations

import typer
from rich.markup import escape

from panel.cli.app import DbOpt, HomeOpt, app, err, out
from panel.config import resolve
from panel.errors import InputError
from panel.store.open import DATABASE_URL_ENV, database_url
from panel.store.sqlite import Store

db_app = typer.Typer(
    help="The store's schema and index: `panel db upgrade` applies the migrations it lacks, "
    "`panel db reindex` rebuilds a data home's index from its run records.",
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


@db_app.command("reindex")
def reindex_cmd(home: HomeOpt = None) -> None:
    """Rebuild the data home's index (panel.db) from its run records; a damaged one is kept aside."""
    from panel.store.reindex import reindex

    if database_url(None) is not None:
        raise InputError(
            f"{DATABASE_URL_ENV} names a shared database: its runs live in it, there is no index "
            "to rebuild; `panel db reindex` rebuilds a data home's SQLite index"
        )
    settings = resolve(home=home)
    done = reindex(settings.home)
    if done.kept_aside is not None:
        kept = f"damaged index kept as {done.kept_aside.name}"
        if done.salvaged:
            kept += " (" + ", ".join(f"{t} {n}" for t, n in sorted(done.salvaged.items())) + ")"
        out.print(escape(kept), highlight=False, soft_wrap=True)
    for name in done.skipped:
        err.print(
            f"panel: warning: {escape(name)} is not a run record; not indexed", highlight=False
        )
    out.print(
        f"{escape(str(settings.home))}: {done.indexed} run(s) indexed, "
        f"{done.already} already there, {len(done.skipped)} skipped",
        highlight=False,
        soft_wrap=True,
    )
