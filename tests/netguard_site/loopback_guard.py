"""The loopback-only guard shared by the pytest process and the `panel` subprocesses it starts.

A test must never send a packet beyond loopback, DNS included: `getaddrinfo` answers loopback names
and address literals only (anything else is EAI_NONAME, as an unknown host would be), and `connect`
to a non-loopback address raises before the kernel sees it.
"""

import ipaddress
import socket
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def is_loopback(host: object) -> bool:
    """Whether `host` (a name or an address literal) stays on this machine."""
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _is_literal(host: object) -> bool:
    """An address the resolver reads without DNS: IPv4/IPv6 text, and the numeric forms
    inet_aton takes (`2130706433`, `0x7f000001`, `127.1`), which the SSRF tests rely on."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return host is None
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        try:
            socket.inet_aton(host)
        except OSError:
            return False
    return True


def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """Resolve loopback names and literals locally; refuse every other name with no DNS query."""
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
    if _is_literal(name) or (isinstance(name, str) and name.lower() in LOOPBACK_NAMES):
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (test guard: no DNS)")


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else address
        if not is_loopback(host):
            raise ConnectionRefusedError(f"test guard: {host} is not loopback")


def guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _real_connect(self, address)


def guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def install(*, connect: bool = True) -> None:
    """Patch the socket module of this interpreter (idempotent). The pytest process keeps
    pytest-socket's connect guard (`connect=False`); subprocesses get this one."""
    socket.getaddrinfo = guarded_getaddrinfo
    if connect:
        socket.socket.connect = guarded_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
