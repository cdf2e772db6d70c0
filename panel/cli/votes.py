"""`panel vote`: people's ship or skip beside the panel's; one vote per voter per tool."""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.markup import escape

from panel.cli.app import DbOpt, HomeOpt, app, out
from panel.config import resolve
from panel.errors import InputError
from panel.model.votes import READER_PREFIX, fold_voter
from panel.store.open import existing_store

MAX_VOTER = 64


def voter_name(raw: str) -> str:
    """A voter's name as stored: folded (`Alice`, `alice` and `ａｌｉｃｅ` are one voter),
    at most 64 characters, never a live-site reader's id."""
    name = fold_voter(raw)
    if not name:
        raise InputError("--voter: give a name (who is voting)")
    if len(name) > MAX_VOTER:
        raise InputError(f"--voter: at most {MAX_VOTER} characters")
    if name.startswith(READER_PREFIX):
        raise InputError(f"--voter: names starting {READER_PREFIX!r} are the live site's readers")
    return name


@app.command("vote")
def vote_cmd(
    tool: Annotated[str, typer.Argument(help="The tool's slug or name.")],
    decision: Annotated[
        Literal["ship", "skip"] | None,
        typer.Argument(help="ship or skip; omit with --clear.", show_default=False),
    ] = None,
    voter: Annotated[
        str, typer.Option("--voter", help="Who votes: one vote per voter per tool.")
    ] = "",
    clear: Annotated[bool, typer.Option("--clear", help="Remove this voter's vote.")] = False,
    home: HomeOpt = None,
    db: DbOpt = None,
) -> None:
    """Cast, change or clear a community vote; pages show the tally beside the panel's verdict."""
    if clear == (decision is not None):
        raise InputError("give ship or skip, or --clear (not both)")
    name = voter_name(voter)
    store = existing_store(resolve(home=home).home, writable=True, url=db)
    slug = store.slug_of(tool)
    if slug is None:
        raise InputError(f"no runs of {tool!r}; see `panel list` for the tools reviewed")
    if clear:
        if not store.clear_vote(slug, name):
            raise InputError(f"{name!r} has no vote on {slug!r} to clear")
    else:
        assert decision is not None
        store.set_vote(slug, name, decision)
    out.print(f"{escape(slug)}: community {escape(store.votes(slug).label)}", highlight=False)
