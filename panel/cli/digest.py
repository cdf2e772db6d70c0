"""`panel digest`: the newsletter's digest from stored runs, shown, written or mailed."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from panel.cli.app import DbOpt, HomeOpt, PersonasOpt, app, err, out
from panel.cli.pages import emit_page
from panel.cli.render import clean
from panel.config import BASE_URL_ENV, SECRET_ENV, resolve
from panel.errors import ConfigError, InputError, PanelError
from panel.judge.personas import load_personas
from panel.pages.links import safe_href
from panel.store.open import existing_store
from panel.store.records import write_atomic

# Where links point when only previewing and no base URL is given.
PREVIEW_BASE_URL = "http://127.0.0.1:8000/"
PREVIEW_UNSUBSCRIBE = "newsletter/unsubscribe/YOUR-OWN-LINK"


def base_url_of(flag: str | None, sending: bool) -> str:
    url = flag or os.environ.get(BASE_URL_ENV) or None
    given = "--base-url" if flag else BASE_URL_ENV
    if url is None:
        if sending:
            raise ConfigError(
                f"--send needs the site's public URL for the links: --base-url or {BASE_URL_ENV}"
            )
        return PREVIEW_BASE_URL
    if safe_href(url) is None:
        raise InputError(f"{given} {url!r}: give an absolute http(s) URL")
    return url


def secret_of() -> bytes:
    """The secret `panel serve` signs newsletter links with: unsubscribe links must verify there."""
    from panel.serve.newsletter.tokens import MIN_SECRET_BYTES

    secret = os.environ.get(SECRET_ENV, "").encode()
    if len(secret) < MIN_SECRET_BYTES:
        state = "is not set" if not secret else f"is shorter than {MIN_SECRET_BYTES} bytes"
        raise ConfigError(
            f"{SECRET_ENV} {state}: --send signs each unsubscribe link with the secret "
            "`panel serve` uses"
        )
    return secret


@app.command("digest")
def digest_cmd(
    since: Annotated[
        str,
        typer.Option("--since", metavar="SPAN", help="The span covered: 1h to 365d (7d, 36h, 2w)."),
    ] = "7d",
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="Mail it through $PANEL_SMTP_URL to every confirmed subscriber it has not "
            "reached yet (each send is recorded: sending the same digest again mails nobody "
            "twice, and retries the ones refused).",
        ),
    ] = False,
    outdir: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="Write digest.html and digest.txt here."),
    ] = None,
    pairs_file: Annotated[
        Path | None,
        typer.Option("--pairs", help="Comparisons to feature, as `panel site --pairs`."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            metavar="URL",
            help=f"The live site's public URL, for links. Default: ${BASE_URL_ENV}.",
        ),
    ] = None,
    home: HomeOpt = None,
    db: DbOpt = None,
    personas_dir: PersonasOpt = None,
) -> None:
    """The newsletter digest: the span's verdicts and comparisons, from stored runs; no API call.

    Prints the text version (or writes both to --out); --send mails each confirmed subscriber,
    one mail each with their own unsubscribe link, once per digest: a digest is known by the
    runs and comparisons it shows.
    """
    from panel.pages import parse_pairs
    from panel.serve.newsletter import build_digest, parse_since, smtp_config
    from panel.serve.newsletter.mail import SMTP_URL_ENV
    from panel.serve.newsletter.mailing import send_digest
    from panel.serve.newsletter.tokens import Tokens
    from panel.store.subscribers import Subscribers

    span = parse_since(since)
    site = base_url_of(base_url, send)
    config = smtp_config(os.environ.get(SMTP_URL_ENV)) if send else None
    tokens = Tokens(secret_of()) if send else None
    pairs = parse_pairs(pairs_file) if pairs_file is not None else []
    if outdir is not None and outdir.exists() and not outdir.is_dir():
        raise InputError(f"--out {outdir}: exists and is not a directory")
    settings = resolve(home=home, personas_dir=personas_dir)
    # --send writes: who got this digest (and the purge of expired pending subscriptions)
    store = existing_store(settings.home, writable=send, url=db)
    if send:
        Subscribers(store).purge_pending()
    problems: list[str] = []
    digest = build_digest(
        store,
        load_personas(settings.personas_dir),
        span,
        base_url=site,
        pairs=pairs,
        now=datetime.now(UTC),
        since_text=since,
        problems=problems,
    )
    for problem in problems:
        err.print(f"panel: warning: {clean(problem)}; left out", highlight=False, soft_wrap=True)
    if not digest.items:
        err.print(f"panel: nothing was reviewed in the last {since}; no digest", highlight=False)
        return
    preview = site.rstrip("/") + "/" + PREVIEW_UNSUBSCRIBE
    if outdir is not None:
        for name, body in (
            ("digest.html", digest.html(preview)),
            ("digest.txt", digest.text(preview)),
        ):
            try:
                write_atomic(outdir / name, body, shared=True)
            except OSError as exc:
                raise InputError(f"--out {outdir}: cannot write ({exc.strerror or exc})") from exc
        err.print(f"wrote {outdir / 'digest.html'} and {outdir / 'digest.txt'}", highlight=False)
    elif not send:
        emit_page(digest.text(preview), None)
    if config is None or tokens is None:
        return
    subscribers = Subscribers(store).confirmed()
    if not subscribers:
        out.print("digest: no confirmed subscribers; nothing sent", highlight=False)
        return
    report = send_digest(store, digest, subscribers, config=config, tokens=tokens, site=site)
    out.print(
        f"digest: sent {report.sent}, already sent {report.already}, failed {report.failed}, "
        f"through {config.where}",
        highlight=False,
    )
    if report.stopped:
        err.print(f"panel: sending stopped: {clean(report.stopped)}", highlight=False)
    if report.failed:
        raise PanelError(
            f"{report.failed} of {len(subscribers)} digest mail(s) were not accepted by "
            f"{config.where}; the next --send tries them again",
            exit_code=1,
        )
