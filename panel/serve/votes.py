"""A reader's vote over HTTP: checks in the order of cheapest refusal first, then one upsert.

Who the reader is comes from a signed cookie (one vote per reader per tool, changeable); how many
new readers and votes an address may make comes from the rate limiter over its keyed hash; a bot
pays a proof of work per vote, and a browser without JavaScript is limited harder instead.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from panel.model.votes import READER_PREFIX
from panel.serve import pages
from panel.serve.forms import Refusal, bad_request, client_address, field, read_form
from panel.serve.security import CSRF_COOKIE, CSRF_FIELD, MAX_TOKEN, READER_COOKIE, Security
from panel.serve.stores import StorePool

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_PAGE = re.compile(r"^(tools|compare)/[a-z0-9-]{1,140}\.html$")
RETRY_AFTER_S = 60


@dataclass(frozen=True)
class Ballot:
    """A validated vote form."""

    slug: str
    decision: Literal["ship", "skip"]
    back: str
    pow_token: str
    pow_nonce: str


def check_origin(request: Request) -> None:
    """A browser says where a form came from: refuse one posted from another site.

    Under `Referrer-Policy: no-referrer` a browser sends `Origin: null` for our own forms, so
    `null` is left to the CSRF token (and `Sec-Fetch-Site`, which browsers send regardless).
    """
    origin = request.headers.get("origin")
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site") or (
        origin not in (None, "null")
        and origin.split("://", 1)[-1] != request.headers.get("host", "")
    ):
        raise Refusal(403, "Vote refused", "Votes are taken only from this site's own pages.")


def reader_of(request: Request, security: Security) -> str | None:
    """The reader's id from their cookie; a cookie this site did not sign is refused outright."""
    raw = request.cookies.get(READER_COOKIE)
    if raw is None:
        return None
    voter = security.reader.loads(raw)
    if voter is None or not voter.startswith(READER_PREFIX):
        raise Refusal(
            403,
            "Vote refused",
            "Your reader cookie was not issued by this site (or has expired); it has been "
            "cleared: reload the page and vote again.",
            clear_cookies=(READER_COOKIE,),
        )
    return voter


def ballot(form: dict[str, str]) -> Ballot:
    slug = field(form, "slug", max_len=64)
    if not _SLUG.match(slug):
        raise bad_request("'slug' is not a tool's key.")
    decision = field(form, "decision", max_len=8)
    if decision not in ("ship", "skip"):
        raise bad_request("'decision' must be ship or skip.")
    back = field(form, "back", max_len=160, required=False) or f"tools/{slug}.html"
    if not _PAGE.match(back):
        raise bad_request("'back' is not a page of this site.")
    return Ballot(
        slug=slug,
        decision=decision,  # type: ignore[arg-type]
        back=back,
        pow_token=field(form, "pow_token", max_len=MAX_TOKEN, required=False),
        pow_nonce=field(form, "pow_nonce", max_len=32, required=False),
    )


async def cast_vote(request: Request, security: Security, pool: StorePool) -> Response:
    """POST /vote: the reader's ship or skip on one tool, then back to the page it came from."""
    check_origin(request)
    form = await read_form(request)
    if not security.csrf.check(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
        raise Refusal(
            403,
            "Vote refused",
            "This form's security token does not match your browser's; reload the page and "
            "vote again.",
        )
    b = ballot(form)
    address = security.addresses.key(client_address(request))
    if not security.limiter.hit("vote", address):
        raise too_many("Too many votes from your network in a short time.")
    if b.pow_nonce:
        if not security.pow.verify(b.pow_token, b.pow_nonce):
            raise bad_request(
                "The page's check did not pass (it expired or was used already); reload the "
                "page and vote again."
            )
    elif not security.limiter.hit("vote_nojs", address):
        raise too_many("Too many votes without JavaScript from your network; try again later.")
    voter = reader_of(request, security)
    new_reader = voter is None
    if voter is None:
        if not security.limiter.hit("new_reader", address):
            raise too_many("Too many new readers from your network this hour.")
        voter = READER_PREFIX + secrets.token_urlsafe(16)

    def record(store: pages.Store) -> bool:
        if not store.run_ids(b.slug):
            return False
        store.set_vote(b.slug, voter, b.decision)
        return True

    if not await pool.write(record):
        raise Refusal(404, "No such tool", f"No tool {b.slug!r} has been reviewed here.")
    response = RedirectResponse(b.back, status_code=303)
    if new_reader:
        set_reader_cookie(response, request, security.reader.dumps(voter))
    return response


def too_many(message: str) -> Refusal:
    return Refusal(429, "Slow down", message, retry_after=RETRY_AFTER_S)


def set_reader_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        READER_COOKIE,
        value,
        max_age=400 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
