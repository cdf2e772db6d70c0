"""fetch() against the loopback test site: redirects, limits, errors, SSRF checks per hop."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Iterable
from datetime import datetime

import httpcore2
import pytest

from panel.sources import netguard
from panel.sources.fetch import BlockedURL, FetchError, GuardedBackend, fetch
from tests.pages import ETAG, LAST_MODIFIED, PageServer


def only_127_0_0_1(ip: netguard.IPAddress) -> str | None:
    """A test policy that treats 127.0.0.1 as the only 'public' address."""
    return None if ip == ipaddress.ip_address("127.0.0.1") else "forbidden in this test"


def test_fetches_a_page(site: PageServer) -> None:
    """A plain page comes back with status, mime type without params, hash and UTC time."""
    result = fetch(f"{site.url}/product", allow_private=True)
    assert result.status == 200
    assert result.content_type == "text/html"
    assert b"Widgetly" in result.body
    assert result.sha256 == hashlib.sha256(result.body).hexdigest()
    assert datetime.fromisoformat(result.fetched_at).utcoffset().total_seconds() == 0
    assert result.not_modified is False


def test_user_agent_names_panel(site: PageServer) -> None:
    """Sites can tell panel's requests apart."""
    fetch(f"{site.url}/pricing", allow_private=True)
    assert site.headers["/pricing"]["user-agent"].startswith("panel/")


def test_loopback_refused_without_allow_private(site: PageServer) -> None:
    """By default the local test server itself is off limits, and the message says why."""
    with pytest.raises(BlockedURL) as caught:
        fetch(f"{site.url}/product")
    message = str(caught.value)
    assert message.startswith(f"{site.url}/product: resolves to 127.0.0.1, a loopback address")
    assert "--allow-private" in message
    assert "\n" not in message


def test_redirect_chain_is_followed(site: PageServer) -> None:
    """Relative and absolute redirects are followed; final_url is where the body came from."""
    result = fetch(f"{site.url}/r1", allow_private=True)
    assert result.url == f"{site.url}/r1"
    assert result.final_url == f"{site.url}/product"


def test_redirect_to_loopback_followed_with_allow_private(site: PageServer) -> None:
    """A redirect to the loopback origin is fine once local addresses are allowed."""
    result = fetch(f"{site.url}/to-loopback", allow_private=True)
    assert result.final_url == f"{site.url}/product"


def test_redirect_loop_refused(site: PageServer) -> None:
    """/loop -> /loop-back -> /loop is caught as a loop."""
    with pytest.raises(FetchError, match="redirect loop"):
        fetch(f"{site.url}/loop", allow_private=True)


def test_too_many_redirects_refused(site: PageServer) -> None:
    """Seven redirects exceed the limit of five."""
    with pytest.raises(FetchError, match=r"too many redirects \(more than 5\)"):
        fetch(f"{site.url}/toomany", allow_private=True)


def test_redirect_without_location_refused(site: PageServer) -> None:
    """A 302 that says nowhere to go is an error, not an empty page."""
    with pytest.raises(FetchError, match="HTTP 302 without Location"):
        fetch(f"{site.url}/no-location", allow_private=True)


def test_every_redirect_hop_is_address_checked(site: PageServer) -> None:
    """A hop to an address the policy refuses is blocked before it is requested."""
    hits_before = site.hits["/product"]
    with pytest.raises(BlockedURL, match=r"resolves to 127\.0\.0\.2, forbidden"):
        fetch(f"{site.url}/to-other-loopback", address_policy=only_127_0_0_1)
    assert site.hits["/to-other-loopback"] >= 1
    assert site.hits["/product"] == hits_before


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/to-file", "unsupported scheme file"), ("/to-credentials", "carries credentials")],
)
def test_redirect_target_url_is_checked(site: PageServer, path: str, reason: str) -> None:
    """Even with --allow-private, a redirect to file:// or to a URL with credentials is refused."""
    with pytest.raises(BlockedURL, match=reason):
        fetch(f"{site.url}{path}", allow_private=True)


def test_slow_server_times_out(site: PageServer) -> None:
    """A server that does not answer within the read timeout is a timeout error, raised on the
    first attempt while the server is still waiting (not after its answer)."""
    hits, answered = site.hits["/slow"], site.answered["/slow"]
    with pytest.raises(FetchError, match="timed out"):
        fetch(f"{site.url}/slow", allow_private=True, timeout=0.3)
    assert site.hits["/slow"] == hits + 1 and site.answered["/slow"] == answered


@pytest.mark.parametrize("path", ["/big", "/bomb"])
def test_oversized_body_refused(site: PageServer, path: str) -> None:
    """11 MB plain, or 11 MB inflated from a tiny gzip, is past the 10 MB limit."""
    with pytest.raises(FetchError, match="larger than 10 MB"):
        fetch(f"{site.url}{path}", allow_private=True)


def test_endless_stream_refused_by_size(site: PageServer) -> None:
    """A chunked body that never ends stops at max_bytes."""
    with pytest.raises(FetchError, match="larger than 100000 bytes"):
        fetch(f"{site.url}/endless", allow_private=True, max_bytes=100_000, deadline=2)


def test_endless_stream_refused_by_deadline(site: PageServer) -> None:
    """A stream that stays under max_bytes still stops at the total deadline, on one request."""
    hits = site.hits["/endless"]
    with pytest.raises(FetchError, match="total deadline"):
        fetch(f"{site.url}/endless", allow_private=True, max_bytes=10**9, deadline=0.3)
    assert site.hits["/endless"] == hits + 1


@pytest.mark.parametrize(
    ("path", "reason"), [("/404", "HTTP 404 Not Found"), ("/500", "HTTP 500 Internal Server Error")]
)
def test_http_errors(site: PageServer, path: str, reason: str) -> None:
    """4xx and 5xx answers are FetchErrors naming the status."""
    with pytest.raises(FetchError) as caught:
        fetch(f"{site.url}{path}", allow_private=True)
    assert str(caught.value) == f"{site.url}{path}: {reason}"


def test_etag_conditional_request(site: PageServer) -> None:
    """A cached ETag is sent as If-None-Match and a 304 becomes not_modified."""
    first = fetch(f"{site.url}/etag", allow_private=True)
    assert first.etag == ETAG and not first.not_modified
    second = fetch(f"{site.url}/etag", allow_private=True, etag=first.etag)
    assert second.not_modified and second.status == 304 and second.body == b""
    assert site.headers["/etag"]["if-none-match"] == ETAG


def test_last_modified_conditional_request(site: PageServer) -> None:
    """A cached Last-Modified is sent as If-Modified-Since and a 304 becomes not_modified."""
    first = fetch(f"{site.url}/last-modified", allow_private=True)
    assert first.last_modified == LAST_MODIFIED
    second = fetch(f"{site.url}/last-modified", allow_private=True, last_modified=LAST_MODIFIED)
    assert second.not_modified
    assert site.headers["/last-modified"]["if-modified-since"] == LAST_MODIFIED


def test_connection_refused() -> None:
    """Nothing listening is reported as connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{port}/", allow_private=True)
    assert str(caught.value) == f"http://127.0.0.1:{port}/: connection refused"


def test_dns_failure() -> None:
    """A name that does not resolve is a FetchError, not a block."""
    with pytest.raises(FetchError) as caught:
        fetch("http://no-such-host.invalid/", allow_private=True)
    assert not isinstance(caught.value, BlockedURL)
    assert str(caught.value).startswith("http://no-such-host.invalid/: cannot resolve host")


@pytest.mark.parametrize("url", ["ftp://x/", "file:///etc/passwd", "http://u:p@127.0.0.1/"])
def test_unsupported_urls_refused_before_connecting(url: str) -> None:
    """Schemes other than http(s) and URLs with credentials are refused up front."""
    with pytest.raises(BlockedURL):
        fetch(url, allow_private=True)


def test_proxy_environment_is_ignored(site: PageServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP(S)_PROXY cannot route panel's requests around the address checks."""
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.255.255.1:3128")
    assert fetch(f"{site.url}/pricing", allow_private=True).status == 200


def test_host_is_resolved_once_and_the_checked_ip_used(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first answer is checked and connected to; no second lookup happens."""
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])
    lookups: list[str] = []

    def rebinding(host: str, port: int, *args: object, **kwargs: object) -> object:
        if host != "rebind.test":
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    result = fetch(f"http://rebind.test:{site.port}/pricing", address_policy=only_127_0_0_1)
    assert result.status == 200
    assert lookups == ["rebind.test"]
    assert site.headers["/pricing"]["host"] == f"rebind.test:{site.port}"


class _MisdirectingBackend(httpcore2.SyncBackend):
    """Connects to 127.0.0.1 whatever address it is asked for, like a rebinding race."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        return super().connect_tcp("127.0.0.1", port, timeout, local_address, socket_options)


def test_peer_address_is_checked_after_connecting(site: PageServer) -> None:
    """The socket's actual peer must be an address that passed the check."""
    policy = netguard.default_policy(allow_private=True)
    backend = GuardedBackend(policy, inner=_MisdirectingBackend())
    with pytest.raises(
        BlockedURL, match=r"connected to 127\.0\.0\.1, not the address that was checked"
    ):
        backend.connect_tcp("127.0.0.2", site.port, timeout=1)
