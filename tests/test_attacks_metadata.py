"""Cloud metadata addresses are refused always, --allow-private or not, and without connecting.

Regression: with --allow-private, 100.100.100.200 (Alibaba Cloud's metadata address, inside the
carrier-grade NAT range the flag opens) was fetched.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx2
import pytest

from panel.sources import netguard
from panel.sources.netguard import BlockedURL, check_url, default_policy, resolve_and_check

METADATA_ADDRESSES = [
    "169.254.169.254",  # AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
    "169.254.170.2",  # AWS ECS task credentials
    "169.254.170.23",  # AWS EKS Pod Identity
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud
    "168.63.129.16",  # Azure WireServer
    "fd00:ec2::254",  # AWS IPv6
    "fd00:ec2::23",  # AWS EKS Pod Identity IPv6
    "fd20:ce::254",  # GCP IPv6
    "::ffff:100.100.100.200",  # IPv4-mapped
    "64:ff9b::6464:64c8",  # NAT64 of 100.100.100.200
    "::ffff:192.0.0.192",
]


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("address", METADATA_ADDRESSES)
def test_metadata_address_refused_by_both_policies(address: str, allow_private: bool) -> None:
    """Every known metadata address is refused and named as one, whatever --allow-private says."""
    problem = default_policy(allow_private)(ipaddress.ip_address(address))
    assert problem is not None and problem.startswith("the cloud metadata address")


@pytest.mark.parametrize("address", METADATA_ADDRESSES)
def test_name_resolving_to_metadata_refused_with_allow_private(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name whose DNS answer is a metadata address is refused at the guard: nothing connects."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def fake_getaddrinfo(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(BlockedURL) as caught:
        resolve_and_check("intranet.example", 80, allow_private=True)
    assert "the cloud metadata address" in caught.value.reason
    assert caught.value.reason.endswith("refused even with --allow-private")


@pytest.mark.parametrize(
    "url",
    [
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.Google.Internal./",
        "http://metadata.google.internal:8080/",
        "http://metadata/computeMetadata/v1/",
        "http://metadata.goog/",
        "http://instance-data/latest/meta-data/",
        "http://instance-data.ec2.internal/",
        "http://metadata.tencentyun.com/latest/meta-data/",
    ],
)
def test_metadata_host_names_refused_before_dns(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Metadata host names are refused by check_url itself: no DNS lookup, no connection."""

    def no_dns(*args: object, **kwargs: object) -> None:
        raise AssertionError("check_url must not resolve names")

    monkeypatch.setattr(netguard.socket, "getaddrinfo", no_dns)
    with pytest.raises(BlockedURL, match="the cloud metadata address"):
        check_url(url)


@pytest.mark.parametrize("address", ["10.1.2.3", "100.64.0.1", "100.100.100.199", "192.0.0.1"])
def test_allow_private_still_opens_neighbours_of_metadata_addresses(address: str) -> None:
    """Only the metadata addresses themselves are closed; the intranet ranges around them stay open."""
    assert default_policy(True)(ipaddress.ip_address(address)) is None


def test_fetch_with_allow_private_refuses_alibaba_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end through fetch: the guard refuses before any connection is attempted."""
    from panel.sources.fetch import fetch

    monkeypatch.setattr(
        netguard.socket,
        "getaddrinfo",
        lambda host, port, **_: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("100.100.100.200", port))
        ],
    )
    with pytest.raises(BlockedURL, match=r"100\.100\.100\.200, the cloud metadata address"):
        fetch("http://latest.example/meta-data/", allow_private=True)
    assert httpx2.URL("http://latest.example/").host == "latest.example"
