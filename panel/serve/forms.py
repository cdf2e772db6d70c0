"""Reading a posted form within bounds, and refusing a request with a readable page.

Shared by every form of the live site (votes and the newsletter): the body is read up to a limit
(a client cannot make the server buffer more), parsed by the standard library, and each field
checked by the handler; the CSRF cookie is set one way, and the client's address read one way.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from panel.serve.security import CSRF_COOKIE, CSRF_MAX_AGE_S

# A vote form is a few hundred bytes; nothing a browser sends for it comes near this.
MAX_FORM_BYTES = 4096
MAX_FIELDS = 16
FORM_TYPE = "application/x-www-form-urlencoded"


class Refusal(Exception):
    """A request the site will not carry out: shown as `status` with a page saying why."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        *,
        retry_after: int | None = None,
        clear_cookies: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.retry_after = retry_after
        self.clear_cookies = clear_cookies  # cookies the refusal removes (a forged one)


def client_address(request: Request) -> str:
    """The peer's address, for `AddressHasher.key` only: it is never stored or logged."""
    return request.client.host if request.client else "unknown"


def set_csrf_cookie(response: Response, token: str, *, secure: bool) -> None:
    """The double-submit cookie every form of the site checks its CSRF field against."""
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=CSRF_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )


def bad_request(message: str) -> Refusal:
    return Refusal(400, "That request was not understood", message)


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> dict[str, str]:
    """The form's fields, each given once; too large, repeated or not a form is a 400/413."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise Refusal(415, "Not a form", f"Send the form as {FORM_TYPE}.")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise Refusal(413, "Too much data", f"A form here is at most {max_bytes} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise Refusal(413, "Too much data", f"A form here is at most {max_bytes} bytes.")
    try:
        text = body.decode("utf-8")
        parsed = parse_qs(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise bad_request("The form could not be read (it is not a form this site sent).") from None
    repeated = sorted(k for k, v in parsed.items() if len(v) != 1)
    if repeated:
        raise bad_request(f"The form gave {', '.join(repeated)} more than once.")
    return {k: v[0] for k, v in parsed.items()}


def field(form: dict[str, str], name: str, *, max_len: int, required: bool = True) -> str:
    """One field, at most `max_len` characters; a missing required field is a 400."""
    value = form.get(name, "")
    if required and not value:
        raise bad_request(f"The form is missing {name!r}; reload the page and try again.")
    if len(value) > max_len:
        raise bad_request(f"{name!r} is longer than {max_len} characters.")
    return value
