"""Address policy for fetching user-supplied URLs without becoming an SSRF proxy.

Pure rules (`is_public_address`, `describe_address`, `check_url`) plus one thin I/O
edge (`resolve_and_check`). `panel.fetch` applies the same policy to the socket it
actually connected, so a DNS answer that changes between lookups cannot slip past.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], str | None]
"""Returns why an address is refused, or None to allow it."""

ALLOWED_SCHEMES = frozenset({"http", "https"})
ALLOW_PRIVATE_HINT = "pass --allow-private to allow it"


class FetchError(Exception):
    """A URL could not be fetched; `str()` is one line naming the URL and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason)
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


class BlockedURL(FetchError):
    """The URL or an address it resolves to is refused by the policy."""


_v4 = ipaddress.IPv4Network
_v6 = ipaddress.IPv6Network

# Where clouds serve instance credentials and configuration. Refused always, --allow-private or
# not: an intranet tool is never reviewed from here. Some sit in ranges --allow-private opens
# (100.64.0.0/10, 192.0.0.0/24) or in public space (Azure's WireServer).
METADATA = "the cloud metadata address"
_V4_METADATA: tuple[tuple[str, str], ...] = (
    ("169.254.169.254", ""),  # AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack, ...
    ("169.254.170.2", " (AWS ECS task credentials)"),
    ("169.254.170.23", " (AWS EKS Pod Identity)"),
    ("100.100.100.200", " (Alibaba Cloud)"),
    ("192.0.0.192", " (Oracle Cloud)"),
    ("168.63.129.16", " (Azure WireServer)"),
)
_V6_METADATA: tuple[tuple[str, str], ...] = (
    ("fd00:ec2::254", " (AWS, IPv6)"),
    ("fd00:ec2::23", " (AWS EKS Pod Identity, IPv6)"),
    ("fd20:ce::254", " (GCP, IPv6)"),
)
# Names that resolve to a metadata address inside a cloud: refused before any DNS, since the
# machine running panel may not be in that cloud when the check runs (or resolves them otherwise).
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
        "metadata.tencentyun.com",
    }
)

# (network, description) in the order the first match should name the problem.
_V4_RULES: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    *((_v4(address), METADATA + note) for address, note in _V4_METADATA),
    (_v4("127.0.0.0/8"), "a loopback address"),
    (_v4("0.0.0.0/8"), "an unspecified address"),
    (_v4("169.254.0.0/16"), "a link-local address"),
    (_v4("10.0.0.0/8"), "a private address"),
    (_v4("172.16.0.0/12"), "a private address"),
    (_v4("192.168.0.0/16"), "a private address"),
    (_v4("100.64.0.0/10"), "a carrier-grade NAT address"),
    (_v4("192.0.0.0/24"), "a reserved address"),
    (_v4("192.0.2.0/24"), "a documentation address"),
    (_v4("198.51.100.0/24"), "a documentation address"),
    (_v4("203.0.113.0/24"), "a documentation address"),
    (_v4("192.88.99.0/24"), "a 6to4 relay address"),
    (_v4("198.18.0.0/15"), "a benchmarking address"),
    (_v4("224.0.0.0/4"), "a multicast address"),
    (_v4("255.255.255.255/32"), "a broadcast address"),
    (_v4("240.0.0.0/4"), "a reserved address"),
)
_V6_RULES: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    *((_v6(address), METADATA + note) for address, note in _V6_METADATA),
    (_v6("::1/128"), "a loopback address"),
    (_v6("::/128"), "an unspecified address"),
    (_v6("fe80::/10"), "a link-local address"),
    (_v6("fec0::/10"), "a site-local address"),
    (_v6("fc00::/7"), "a private (unique local) address"),
    (_v6("ff00::/8"), "a multicast address"),
    (_v6("2001:db8::/32"), "a documentation address"),
    (_v6("100::/64"), "a discard-only address"),
    # RFC 8215 local-use NAT64: the IPv4 position depends on the operator's prefix length.
    (_v6("64:ff9b:1::/48"), "a local-use NAT64 address"),
)
_NAT64 = _v6("64:ff9b::/96")
_IPV4_COMPATIBLE = _v6("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 form carries (mapped, compatible, NAT64, 6to4, Teredo).

    Such an address reaches the IPv4 host inside it, so it must be judged by that host.
    """
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # ::a.b.c.d, but not :: or ::1
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    return []


def describe_address(ip: IPAddress) -> str | None:
    """Why `ip` is not a public Internet address, or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        for inner in embedded_ipv4(ip):
            problem = describe_address(inner)
            if problem is not None:
                return f"{problem} ({inner} inside an IPv6 address)"
        if embedded_ipv4(ip):
            return None
        rules: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = _V6_RULES
    else:
        rules = _V4_RULES
    for network, description in rules:
        if ip in network:
            return description
    if ip.is_multicast:
        return "a multicast address"
    if not ip.is_global:
        return "a non-public address"
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True when `ip` is a globally routable unicast address."""
    return describe_address(ip) is None


# Refused even with --allow-private: an intranet tool lives on a private range, never here, and
# these are where cloud credentials are served (link-local and every known metadata address).
_NEVER = ("a link-local address", METADATA)


def private_policy(ip: IPAddress) -> str | None:
    """What `--allow-private` still refuses: link-local and cloud metadata addresses."""
    problem = describe_address(ip)
    if problem is not None and problem.startswith(_NEVER):
        return f"{problem}, refused even with --allow-private"
    return None


def default_policy(allow_private: bool) -> AddressPolicy:
    """The policy `--allow-private` selects: public only, or all but link-local and metadata."""
    return private_policy if allow_private else describe_address


def check_url(url: str) -> None:
    """Refuse URLs panel must never request, before any DNS or network.

    Parsed with httpx2's own parser so the check sees exactly what the client will use.
    """
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL as exc:
        raise BlockedURL(url, f"not a valid URL ({exc})") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        scheme = parsed.scheme or "no scheme"
        raise BlockedURL(url, f"unsupported scheme {scheme} (panel fetches http and https)")
    if not parsed.host:
        raise BlockedURL(url, "the URL has no host")
    if parsed.userinfo:
        raise BlockedURL(url, "the URL carries credentials (user:password@); remove them")
    if parsed.host.lower().rstrip(".") in METADATA_HOSTS:
        raise BlockedURL(url, f"{parsed.host} names {METADATA}, refused even with --allow-private")


def parse_ip(text: str) -> IPAddress:
    """Parse an address as `getaddrinfo` or `getpeername` returns it (drops a %scope)."""
    return ipaddress.ip_address(text.split("%", 1)[0])


def resolve_and_check(
    host: str,
    port: int,
    allow_private: bool = False,
    policy: AddressPolicy | None = None,
) -> list[IPAddress]:
    """Resolve `host` once and refuse it if ANY address fails the policy.

    Refusing on any (not all) bad answer stops a name that mixes a public and a private
    record from reaching the private one. Numeric oddities such as `2130706433`,
    `0x7f000001` or `127.1` come back from getaddrinfo as 127.0.0.1 and are refused here.
    """
    policy = policy or default_policy(allow_private)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(host, f"cannot resolve host {host} ({exc})") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = parse_ip(str(sockaddr[0]))
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise FetchError(host, f"cannot resolve host {host} (no addresses)")
    for ip in addresses:
        problem = policy(ip)
        if problem is not None:
            hint = "" if problem.endswith("--allow-private") else f"; {ALLOW_PRIVATE_HINT}"
            raise BlockedURL(host, f"resolves to {ip}, {problem}{hint}")
    return addresses
