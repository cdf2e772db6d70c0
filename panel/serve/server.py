"""Serving the app with uvicorn on a socket bound here, so the address printed is the real one
(port 0 picks a free port) and connections queue from the moment it is printed."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from panel.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def check_host(host: str) -> str:
    """An IP address to bind (names are not resolved: `localhost` is 127.0.0.1)."""
    if host == "localhost":
        return DEFAULT_HOST
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise InputError(f"--host {host!r}: give an IP address such as 127.0.0.1") from None


def is_loopback(host: str) -> bool:
    return ipaddress.ip_address(host).is_loopback


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; a port in use is one line, not a traceback."""
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: must be from 0 to 65535")
    family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def config(app: ASGIApp) -> uvicorn.Config:
    """uvicorn without its access log (it would write every reader's address) and without
    trusting X-Forwarded-For (a client could pick the address its limits count against)."""
    return uvicorn.Config(
        app,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_level="warning",
        lifespan="on",
    )


def serve(app: ASGIApp, sock: socket.socket, announce: Callable[[str], None]) -> None:
    """Run until interrupted; `announce` gets the URL once the socket is listening."""
    server = uvicorn.Server(config(app))
    announce(url_of(sock))
    server.run(sockets=[sock])
