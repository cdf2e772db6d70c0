"""The suite itself cannot reach the internet: any connection outside loopback fails the test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from pytest_socket import SocketConnectBlockedError


def test_outbound_connection_is_blocked() -> None:
    with (
        pytest.warns(UserWarning, match="93.184.216.34"),
        pytest.raises(SocketConnectBlockedError),
        socket.create_connection(("93.184.216.34", 80), timeout=1),
    ):
        pass


def test_loopback_is_allowed() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    with socket.create_connection(server.getsockname(), timeout=1):
        pass
    server.close()


def test_no_name_is_looked_up_in_dns() -> None:
    """A name that is not loopback fails as unknown before any query leaves the machine."""
    with pytest.raises(socket.gaierror) as caught:
        socket.getaddrinfo("example.com", 443)
    assert "no DNS" in str(caught.value)
    assert socket.getaddrinfo("localhost", 80)  # loopback names still resolve


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001"])
def test_numeric_addresses_still_resolve_without_dns(host: str) -> None:
    """The SSRF tests' numeric forms are read by the resolver itself, with no query."""
    assert {info[4][0] for info in socket.getaddrinfo(host, 80)} == {"127.0.0.1"}


SUBPROCESS_TRY = """
import socket
for host in ("example.com", "93.184.216.34"):
    try:
        socket.create_connection((host, 80), timeout=1)
    except (OSError, socket.gaierror) as exc:
        print(host, "refused:", exc)
"""


def test_subprocesses_get_the_same_guard() -> None:
    """A Python subprocess (as the `panel` command is) refuses DNS and non-loopback connects."""
    proc = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_TRY],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )
    assert "example.com refused: [Errno -2] Name or service not known (test guard" in proc.stdout
    assert "93.184.216.34 refused: test guard: 93.184.216.34 is not loopback" in proc.stdout
