"""`panel serve`: the site live from the store, where readers vote and bookmark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from panel.cli.app import DbOpt, HomeOpt, PersonasOpt, app, err, out
from panel.cli.pages import PROMPTS
from panel.config import resolve
from panel.judge.personas import load_personas
from panel.judge.prompts import Prompts
from panel.pages.links import safe_href
from panel.store.open import existing_store


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback unless you say so).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on; 0 picks a free one.")
    ] = 8000,
    pairs_file: Annotated[
        Path | None,
        typer.Option("--pairs", help="Comparisons to link from the pages: 'A vs B' a line."),
    ] = None,
    site_url: Annotated[
        str | None,
        typer.Option("--site-url", help="Where the site lives, for absolute links in the feed."),
    ] = None,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """Serve the site live: the pages of `panel site` with the community tally as it stands, a
    ship/skip vote for readers and bookmarks kept in their browser. Ctrl-C stops it."""
    from panel.errors import InputError
    from panel.pages import parse_pairs
    from panel.serve.app import ServeSettings, create_app
    from panel.serve.server import bind, check_host, is_loopback, serve

    settings = resolve(home=home, personas_dir=personas_dir)
    address = check_host(host)
    if site_url is not None and safe_href(site_url) is None:
        raise InputError(f"--site-url {site_url!r}: give an absolute http(s) URL")
    pairs = parse_pairs(pairs_file) if pairs_file is not None else []
    store = existing_store(settings.home, writable=True, url=db)
    prompts = Prompts(settings.prompts_dir)
    sock = bind(address, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    live = ServeSettings(
        home=settings.home,
        personas=load_personas(settings.personas_dir),
        prompt_versions={name: prompts.version(name) for name in PROMPTS},
        pairs=pairs,
        site_url=site_url,
        base_url=f"http://{shown}:{bound_port}/",
    )
    application = create_app(store, live)
    if not is_loopback(address):
        err.print(
            f"panel: warning: listening on {escape(address)}: other machines can reach this site",
            highlight=False,
        )

    def announce(url: str) -> None:
        out.print(f"serving {url} (Ctrl-C stops)", highlight=False, soft_wrap=True)
        out.file.flush()

    serve(application, sock, announce)
