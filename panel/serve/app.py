"""The live site as an ASGI app: the static site's pages rendered per request from the store, with
the live community tally, the vote form and bookmarks; nothing else is reachable over HTTP.

`create_app` takes extra routes (the newsletter's subscribe/confirm/unsubscribe) and a shared
`Security`, so every form of the site checks tokens and limits the same way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panel.judge.personas import Persona
from panel.pages import links
from panel.serve import pages
from panel.serve.forms import Refusal, set_csrf_cookie
from panel.serve.newsletter import newsletter_routes
from panel.serve.newsletter.mail import SMTP_URL_ENV
from panel.serve.newsletter.tokens import BASE_URL_ENV, SECRET_ENV
from panel.serve.security import CSRF_COOKIE, DEFAULT_POW_BITS, Security, site_secret
from panel.serve.stores import StorePool
from panel.serve.votes import cast_vote, reader_of
from panel.store.open import existing_store
from panel.store.sqlite import Store


@dataclass(frozen=True)
class ServeSettings:
    """What the live site needs besides the store."""

    home: Path  # the data home: the serving secret lives here (mode 0600)
    personas: Sequence[Persona]
    prompt_versions: Mapping[str, int]
    pairs: Sequence[tuple[str, str]] = ()
    site_url: str | None = None
    limits: Mapping[str, str] = field(default_factory=dict)  # over security.DEFAULT_LIMITS
    pow_bits: int = DEFAULT_POW_BITS
    base_url: str = "http://127.0.0.1:8000/"  # where the server listens, for mailed links


log = logging.getLogger("panel.serve")
# What a 503 (the store failing) tells a client to wait before trying again.
RETRY_AFTER_S = 5

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """Every response gets the page policy (as a header too, with frame-ancestors) unless the
    route set its own, and the usual hardening headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.decode().lower() for k, _ in headers}
                extra = dict(HEADERS)
                extra.setdefault("content-security-policy", pages.page_header_csp(None))
                for k, v in extra.items():
                    if k not in present:
                        headers.append((k.encode(), v.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorPages:
    """An exception no route handled is a page of the site (inside `SecurityHeaders`), not
    Starlette's bare "Internal Server Error" and a traceback in the log: the store failing (a
    database gone, a disk error) is a 503 to try again, anything else a 500; the log has one line,
    and a traceback only for the latter (a bug)."""

    def __init__(self, app: ASGIApp, store_errors: tuple[type[Exception], ...]) -> None:
        self.app = app
        self.store_errors = store_errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            await self.page(exc, scope.get("path", "/").lstrip("/"))(scope, receive, send)

    def page(self, exc: Exception, path: str) -> Response:
        if isinstance(exc, self.store_errors):
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("panel serve: the store failed on /%s: %s", path, reason)
            status, title = 503, "Not available just now"
            message = "The site cannot read its store just now; please try again in a moment."
        else:
            log.error("panel serve: unexpected error on /%s", path, exc_info=exc)
            status, title = 500, "Something went wrong"
            message = "This page could not be made; the error is in the server's log."
        response = html(pages.error_page(status, title, message, path), None, status)
        if status == 503:
            response.headers["retry-after"] = str(RETRY_AFTER_S)
        return response


def site_path(request: Request) -> str:
    return request.url.path.lstrip("/")


def html(body: str, script: str | None, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        body,
        status_code=status,
        headers={
            "content-security-policy": pages.page_header_csp(script),
            "cache-control": "no-store",
        },
    )


def newsletter_routes_of(
    store: Store, settings: ServeSettings, security: Security
) -> list[BaseRoute]:
    """The newsletter's subscribe, confirm and unsubscribe routes, checking CSRF tokens and limits
    with the site's `security`. Links are signed with PANEL_SECRET_KEY (which `panel digest
    --send` signs unsubscribe links with too), else with the data home's serving secret; they
    start with PANEL_BASE_URL, else --site-url, else where the server listens."""
    secret = os.environ.get(SECRET_ENV, "").encode() or site_secret(settings.home)
    base_url = os.environ.get(BASE_URL_ENV) or settings.site_url or settings.base_url
    return newsletter_routes(
        store,
        secret=secret,
        smtp_url=os.environ.get(SMTP_URL_ENV) or None,
        base_url=base_url,
        security=security,
    )


def create_app(
    store_url_or_store: str | Store,
    settings: ServeSettings,
    *,
    extra_routes: Sequence[BaseRoute] | None = None,
    security: Security | None = None,
) -> Starlette:
    """The live site over a store (a Store, or a postgresql:// URL opened writable).

    `extra_routes` are mounted beside the pages; None mounts the newsletter's if it is there.
    `security` is shared by every form (pass one to share it with routes built outside).
    """
    store = (
        store_url_or_store
        if isinstance(store_url_or_store, Store)
        else existing_store(settings.home, writable=True, url=store_url_or_store)
    )
    pool = StorePool(store)
    if security is None:
        security = Security.from_secret(
            site_secret(settings.home), dict(settings.limits), settings.pow_bits
        )
    sec = security
    bookmarks = pages.bookmarks_page()

    def reader(request: Request) -> tuple[pages.Reader, bool]:
        """The reader's CSRF token (new when missing or not ours) and id; True if the token is new."""
        token, fresh = sec.csrf.current(request.cookies.get(CSRF_COOKIE))
        try:
            voter = reader_of(request, sec)
        except Refusal:
            voter = None  # a page still renders; the vote form says why when it is used
        return pages.Reader(csrf=token, voter=voter), fresh

    def with_csrf(response: Response, r: pages.Reader, fresh: bool, request: Request) -> Response:
        if fresh:
            set_csrf_cookie(response, r.csrf, secure=request.url.scheme == "https")
        return response

    async def index(request: Request) -> Response:
        body = await pool.read(lambda s: pages.index_page(s, settings.pairs))
        return html(body, pages.sorter_script())

    async def methodology(request: Request) -> Response:
        body = pages.methodology_page(settings.personas, settings.prompt_versions)
        return html(body, None)

    async def bookmarks_view(request: Request) -> Response:
        return html(bookmarks, pages.live_script())

    async def feed(request: Request) -> Response:
        body = await pool.read(lambda s: pages.feed(s, settings.site_url))
        return Response(body, media_type="application/atom+xml")

    async def tool(request: Request) -> Response:
        r, fresh = reader(request)
        slug = request.path_params["slug"]
        challenge = sec.pow.challenge()
        body = await pool.read(
            lambda s: pages.review_page(s, slug, settings.personas, settings.pairs, r, challenge)
        )
        if body is None:
            raise Refusal(404, "No such tool", f"No tool {slug!r} has been reviewed here.")
        return with_csrf(html(body, pages.live_script()), r, fresh, request)

    async def compare(request: Request) -> Response:
        r, fresh = reader(request)
        page = site_path(request)
        challenges = (sec.pow.challenge(), sec.pow.challenge())

        def render(s: Store) -> str | None:
            slugs = pages.compare_slugs(page, s)
            if slugs is None:
                return None
            return pages.compare_page(s, *slugs, settings.personas, r, challenges)

        body = await pool.read(render)
        if body is None:
            raise Refusal(404, "No such comparison", "These two tools are not both reviewed here.")
        return with_csrf(html(body, pages.live_script()), r, fresh, request)

    async def vote(request: Request) -> Response:
        return await cast_vote(request, sec, pool)

    async def refused(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status, title = exc.status_code, "Not here" if exc.status_code == 404 else "Refused"
            message = (
                "There is no page at this address."
                if exc.status_code == 404
                else "This address does not take that kind of request."
            )
            exc = Refusal(status, title, message)
        assert isinstance(exc, Refusal)
        body = pages.error_page(exc.status, exc.title, exc.message, site_path(request))
        response = html(body, None, exc.status)
        if exc.retry_after is not None:
            response.headers["retry-after"] = str(exc.retry_after)
        for name in exc.clear_cookies:
            response.delete_cookie(name, path="/")
        return response

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pool.close()

    routes: list[BaseRoute] = [
        Route("/", lambda request: RedirectResponse(links.INDEX, status_code=308)),
        Route(f"/{links.INDEX}", index),
        Route(f"/{links.METHODOLOGY}", methodology),
        Route(f"/{links.FEED}", feed),
        Route(f"/{pages.BOOKMARKS}", bookmarks_view),
        Route("/tools/{slug}.html", tool),
        Route("/compare/{pair}.html", compare),
        Route(f"/{pages.VOTE}", vote, methods=["POST"]),
        *(newsletter_routes_of(store, settings, sec) if extra_routes is None else extra_routes),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: refused, Refusal: refused},
        lifespan=lifespan,
    )
    app.add_middleware(ErrorPages, store_errors=store._write_errors)
    app.add_middleware(SecurityHeaders)
    app.state.security = sec
    app.state.pool = pool
    return app
