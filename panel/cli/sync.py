"""`panel sync`: a data home's runs, comparisons, votes, file registry and fetch records into the
shared store (or back with --reverse), copying only what the other side lacks; newsletter
subscribers only with --subscribers (why: `panel.store.sync`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from panel.cli.app import app, err, json_flag, out
from panel.config import resolve
from panel.errors import InputError
from panel.store.connection import redact
from panel.store.open import DATABASE_URL_ENV, existing_store, open_store
from panel.store.sqlite import Store
from panel.store.sync import is_url, same_location, sync_stores

# A libpq key=value connection string (`host=db user=u password=...`): not a path to create.
KEY_VALUE = re.compile(r"^\s*(host|hostaddr|port|dbname|user|password|service)\s*=", re.I)


def checked(location: str, option: str) -> str:
    """A store as given: a postgresql:// URL, or a data home path (never a URL of another kind,
    nor a key=value connection string, which would otherwise become a folder's name)."""
    url = is_url(location)
    if (url and not location.startswith(("postgresql://", "postgres://"))) or KEY_VALUE.match(
        location
    ):
        raise InputError(
            f"{option}: {shown(location)!r} is not a postgresql:// URL or a data home path"
        )
    return location


def shown(location: str) -> str:
    """A store as messages name it: never a password (a URL's, or a key=value string's)."""
    return redact(location)


def open_source(location: str, home: Path) -> Store:
    """The store copied from, read only; it must exist."""
    if is_url(location):
        return existing_store(home, url=location)
    return Store.existing(Path(location))


def open_target(location: str, home: Path) -> Store:
    """The store copied into, created (or its schema set up) if new."""
    if is_url(location):
        return open_store(home, url=location)
    return Store(Path(location))


@app.command("sync")
def sync_cmd(
    local: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="HOME",
            help="The data home to copy from (into, with --reverse). Default: the data home in "
            "use (see `panel home`).",
        ),
    ] = None,
    shared: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="URL",
            help=f"The shared store, postgresql://... (or another data home). "
            f"Default: ${DATABASE_URL_ENV}.",
        ),
    ] = None,
    reverse: Annotated[
        bool,
        typer.Option("--reverse", help="Copy the other way: the shared store into the data home."),
    ] = False,
    subscribers: Annotated[
        bool,
        typer.Option(
            "--subscribers",
            help="Also copy the newsletter's confirmed subscribers (addresses: personal data) "
            "with their ids, the unsubscribes, and who got which digest; to move a site's list "
            "to the store it will be served from. Pending and unsubscribed addresses are never "
            "copied.",
        ),
    ] = False,
    json_out: Annotated[bool, json_flag("Print the counts as one JSON object.")] = False,
) -> None:
    """Copy a data home's runs, comparisons, votes, file registry and fetch records into the
    shared store, or back with --reverse; what the other side has is kept, so running it again
    copies nothing.

    Newsletter subscribers stay where readers gave their address unless --subscribers is given.
    """
    shared = shared or os.environ.get(DATABASE_URL_ENV) or None
    if shared is None:
        raise InputError(
            f"no shared store to sync with: set {DATABASE_URL_ENV}=postgresql://... "
            "or pass --to URL"
        )
    shared = checked(shared, "--to")
    home = resolve(home=None if local is None or is_url(local) else Path(local)).home
    local = checked(local or str(home), "--from")
    if same_location(local, shared):
        raise InputError(f"--from and --to are the same store ({shown(local)}); nothing to copy")
    source, target = (shared, local) if reverse else (local, shared)
    source_store = open_source(source, home)
    try:
        target_store = open_target(target, home)
        try:
            report = sync_stores(source_store, target_store, subscribers=subscribers)
        finally:
            target_store.close()
    finally:
        source_store.close()
    for problem in report.problems:
        err.print(f"panel: warning: {escape(problem)}; not copied", highlight=False)
    if report.subscribers_not_copied:
        err.print(
            f"panel: note: {report.subscribers_not_copied} confirmed newsletter subscriber(s) "
            "not copied (addresses stay where they were given); --subscribers copies them",
            highlight=False,
        )
    if json_out:
        print(report.model_dump_json(indent=2))
    else:
        out.print(
            f"{escape(report.source)} -> {escape(report.target)}", highlight=False, soft_wrap=True
        )
        for kind, counts in report.counts().items():
            out.print(
                f"{kind:<12} {counts.copied:>6} copied  {counts.already:>6} already there",
                highlight=False,
            )
    if report.problems:
        raise typer.Exit(1)
