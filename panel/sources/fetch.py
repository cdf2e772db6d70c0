"""Fetch one URL safely: SSRF-checked on every hop, bounded in size and time.

The address check lives in the httpcore2 network backend (`GuardedBackend`), the one place
that opens sockets. It resolves the host once, refuses the name if any answer fails the
policy, connects to a checked IP, and then checks `getpeername()` of the socket it got.
httpcore2 never resolves the name again, so DNS rebinding (a public answer at check time,
a private one at connect time) has no second lookup to exploit. TLS still uses the
original host name for SNI and certificate checks, and the Host header is unchanged,
because httpcore2 passes the URL's host to `start_tls`, not the IP we connected to.
"""

from __future__ import annotations

import hashlib
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import certifi
import httpcore2
import httpx2

from panel.sources import netguard
from panel.sources.netguard import AddressPolicy, BlockedURL, FetchError

__all__ = ["BlockedURL", "FetchError", "FetchResult", "GuardedBackend", "fetch"]

DEFAULT_USER_AGENT = "panel/0.1 (+https://github.com/panel-reviews/panel)"
DEFAULT_MAX_BYTES = 10_000_000
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml,application/pdf,text/plain,text/markdown;q=0.9,*/*;q=0.5"


@dataclass(frozen=True)
class FetchResult:
    """What one successful fetch returned (or that the cached copy is still current)."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    etag: str | None
    last_modified: str | None
    sha256: str
    fetched_at: str
    not_modified: bool = False


class GuardedBackend(httpcore2.NetworkBackend):
    """Network backend that only connects to addresses the policy allows.

    See the module docstring for why the check sits here and not before the request.
    """

    def __init__(self, policy: AddressPolicy, inner: httpcore2.NetworkBackend | None = None):
        self._policy = policy
        self._inner = inner or httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        addresses = netguard.resolve_and_check(host, port, policy=self._policy)
        last_error: Exception | None = None
        for ip in addresses:
            try:
                stream = self._inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                last_error = exc
                continue
            self._check_peer(stream, host, addresses)
            return stream
        assert last_error is not None
        raise last_error

    def _check_peer(
        self, stream: httpcore2.NetworkStream, host: str, addresses: list[netguard.IPAddress]
    ) -> None:
        """Refuse the socket unless its peer is one of the checked addresses."""
        sock = stream.get_extra_info("socket")
        peer = netguard.parse_ip(str(sock.getpeername()[0]))
        problem = self._policy(peer)
        if peer not in addresses and problem is None:
            problem = "not the address that was checked"
        if problem is not None:
            stream.close()
            raise BlockedURL(host, f"connected to {peer}, {problem}; {netguard.ALLOW_PRIVATE_HINT}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        raise BlockedURL(path, "unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@cache
def _ssl_context() -> ssl.SSLContext:
    """Certificate verification against certifi's roots, loaded once per process."""
    return ssl.create_default_context(cafile=certifi.where())


class _GuardedTransport(httpx2.HTTPTransport):
    """httpx2's transport over a `GuardedBackend` and no proxies."""

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        # httpx2.HTTPTransport takes no network_backend, so build its pool ourselves.
        self._pool = httpcore2.ConnectionPool(
            ssl_context=_ssl_context(),
            network_backend=GuardedBackend(policy),
            max_connections=4,
        )


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n} bytes"


def _read_body(response: httpx2.Response, url: str, max_bytes: int, ends_at: float) -> bytes:
    """Read the decompressed body, refusing past `max_bytes` or the total deadline."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, f"larger than {_megabytes(max_bytes)}")
        if time.monotonic() > ends_at:
            raise FetchError(url, "took longer than the total deadline")
        chunks.append(chunk)
    return b"".join(chunks)


def _describe_transport_error(exc: httpx2.TransportError) -> str:
    if isinstance(exc, httpx2.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx2.ConnectError):
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused"
        return f"cannot connect ({exc})"
    if isinstance(exc, httpx2.DecodingError):
        return f"cannot decode the response ({exc})"
    return f"network error ({exc.__class__.__name__}: {exc})"


def fetch(
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 10.0,
    deadline: float = 30.0,
    max_redirects: int = 5,
    etag: str | None = None,
    last_modified: str | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    address_policy: AddressPolicy | None = None,
) -> FetchResult:
    """GET `url`, following redirects by hand so every hop is checked again.

    Args:
        address_policy: overrides the policy `allow_private` selects (tests use it).
        etag, last_modified: validators of a cached copy; a 304 gives `not_modified=True`.

    Raises:
        FetchError: with a one-line reason; `BlockedURL` when the policy refuses.
    """
    policy = address_policy or netguard.default_policy(allow_private)
    ends_at = time.monotonic() + deadline
    headers = {"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    netguard.check_url(url)
    seen: set[str] = set()
    current = url
    with httpx2.Client(
        transport=_GuardedTransport(policy), trust_env=False, follow_redirects=False
    ) as client:
        for _hop in range(max_redirects + 1):
            seen.add(current)
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                raise FetchError(current, "took longer than the total deadline")
            budget = httpx2.Timeout(min(timeout, remaining))
            try:
                with client.stream("GET", current, headers=headers, timeout=budget) as response:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_STATUSES:
                        if not location:
                            raise FetchError(
                                current, f"HTTP {response.status_code} without Location"
                            )
                        current = _redirect_target(current, response.url, location, seen)
                        continue
                    if response.status_code == 304 and (etag or last_modified):
                        return _result(url, response, b"", not_modified=True)
                    if response.status_code >= 400:
                        phrase = response.reason_phrase or ""
                        raise FetchError(current, f"HTTP {response.status_code} {phrase}".strip())
                    body = _read_body(response, current, max_bytes, ends_at)
                    return _result(url, response, body, not_modified=False)
            except BlockedURL as exc:
                raise BlockedURL(current, exc.reason) from None
            except FetchError as exc:
                if exc.url == current:
                    raise
                raise FetchError(current, exc.reason) from None
            except httpx2.TransportError as exc:
                raise FetchError(current, _describe_transport_error(exc)) from None
        raise FetchError(url, f"too many redirects (more than {max_redirects})")


def _redirect_target(current: str, base: httpx2.URL, location: str, seen: set[str]) -> str:
    """The absolute URL a redirect points to, checked before it is followed."""
    try:
        nxt = str(base.join(location))
    except httpx2.InvalidURL as exc:
        raise FetchError(current, f"redirects to an invalid URL ({exc})") from None
    try:
        netguard.check_url(nxt)
    except BlockedURL as exc:
        raise BlockedURL(current, f"redirects to {nxt}: {exc.reason}") from None
    if nxt in seen:
        raise FetchError(current, f"redirect loop (back to {nxt})")
    return nxt


def _result(url: str, response: httpx2.Response, body: bytes, *, not_modified: bool) -> FetchResult:
    return FetchResult(
        url=url,
        final_url=str(response.url),
        status=response.status_code,
        content_type=_mime(response.headers.get("content-type")),
        body=body,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        sha256=hashlib.sha256(body).hexdigest(),
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        not_modified=not_modified,
    )
