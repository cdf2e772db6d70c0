"""The address policy: hostile hosts and URLs are refused, public addresses pass, no network."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import httpx2
import pytest
from pytest_socket import socket_allow_hosts

from panel.sources import netguard
from panel.sources.netguard import (
    BlockedURL,
    FetchError,
    check_url,
    is_public_address,
    resolve_and_check,
)


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    """Nothing in these tests may connect anywhere but loopback."""
    socket_allow_hosts(["127.0.0.0/8", "::1"])
    yield


def guard(url: str) -> None:
    """What fetch does before connecting: check the URL, then resolve and check its host."""
    check_url(url)
    resolve_and_check(httpx2.URL(url).host, 80, allow_private=False)


HOSTILE_HOSTS = [
    "127.0.0.1",
    "localhost",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",
    "fe80::1",
    "fc00::1",
    "2002:7f00:1::",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "127.1",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_hostile_host_is_refused(host: str) -> None:
    """Every loopback, private, metadata or wrapped-IPv4 host is refused after resolution."""
    with pytest.raises(BlockedURL, match="pass --allow-private"):
        resolve_and_check(host, 80, allow_private=False)


HOSTILE_URLS = [
    "http://[::1]/",
    "http://[::ffff:7f00:1]:8080/admin",
    "http://2130706433/",
    "http://169.254.169.254/latest/meta-data/",
    "file:///etc/passwd",
    "ftp://x",
    "gopher://",
    "http://user:pass@host/",
    "http:///no-host",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_url_is_refused(url: str) -> None:
    """Bad schemes, credentials, missing hosts and loopback URLs are all refused."""
    with pytest.raises(BlockedURL):
        guard(url)


NON_PUBLIC_ADDRESSES = [
    *(h for h in HOSTILE_HOSTS if not h.startswith(("local", "0x", "0177", "2130", "127.1"))),
    "198.18.0.1",
    "192.0.2.1",
    "203.0.113.9",
    "240.0.0.1",
    "0.1.2.3",
    "::",
    "ff02::1",
    "2001:db8::1",
    "64:ff9b:1::a00:1",
    "::7f00:1",  # IPv4-compatible ::127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
]


@pytest.mark.parametrize("address", NON_PUBLIC_ADDRESSES)
def test_non_public_address(address: str) -> None:
    """The pure policy rejects every non-public address, including wrapped IPv4 forms."""
    assert not is_public_address(ipaddress.ip_address(address))


PUBLIC_ADDRESSES = [
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_address(address: str) -> None:
    """Public addresses (and IPv6 forms wrapping a public IPv4) pass, judged without DNS."""
    assert is_public_address(ipaddress.ip_address(address))


def test_message_names_address_kind_and_flag() -> None:
    """The refusal says which address, what kind, and how to allow it."""
    with pytest.raises(BlockedURL) as caught:
        resolve_and_check("127.0.0.1", 80)
    assert caught.value.reason == (
        "resolves to 127.0.0.1, a loopback address; pass --allow-private to allow it"
    )


def test_metadata_address_is_named() -> None:
    """169.254.169.254 is called out as the cloud metadata address."""
    assert netguard.describe_address(ipaddress.ip_address("169.254.169.254")) == (
        "the cloud metadata address"
    )


def test_allow_private_lets_loopback_through() -> None:
    """--allow-private is the one switch that permits local addresses."""
    assert resolve_and_check("127.0.0.1", 80, allow_private=True) == [
        ipaddress.ip_address("127.0.0.1")
    ]


def test_any_private_answer_refuses_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name with one public and one private record is refused, not half-allowed."""

    def fake_getaddrinfo(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
        ]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(BlockedURL, match=r"10\.0\.0\.1, a private address"):
        resolve_and_check("mixed.example", 443)


def test_public_name_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name whose records are all public is returned, with no real DNS."""
    monkeypatch.setattr(
        netguard.socket,
        "getaddrinfo",
        lambda host, port, **_: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("1.1.1.1", port))],
    )
    assert resolve_and_check("one.example", 443) == [ipaddress.ip_address("1.1.1.1")]


def test_unresolvable_name_is_a_fetch_error_not_a_block() -> None:
    """A .invalid name fails resolution locally and fast, as a plain FetchError."""
    with pytest.raises(FetchError) as caught:
        resolve_and_check("nothing-here.invalid", 80)
    assert not isinstance(caught.value, BlockedURL)
    assert "cannot resolve host nothing-here.invalid" in str(caught.value)


@pytest.mark.parametrize("url", ["http://example.com/", "https://example.com:8443/a?b=c"])
def test_ordinary_urls_pass_check_url(url: str) -> None:
    """check_url itself needs no DNS and lets ordinary http(s) URLs through."""
    check_url(url)


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "169.254.1.1", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254"],
)
def test_allow_private_still_refuses_link_local_and_metadata(address: str) -> None:
    """--allow-private opens intranet ranges, never the addresses cloud credentials are served on."""
    problem = netguard.default_policy(True)(ipaddress.ip_address(address))
    assert problem is not None and "even with --allow-private" in problem


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "fd12::1", "100.64.0.1"]
)
def test_allow_private_opens_intranet_ranges(address: str) -> None:
    assert netguard.default_policy(True)(ipaddress.ip_address(address)) is None
