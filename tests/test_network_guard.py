"""The suite itself cannot reach the internet: any connection outside loopback fails the test."""

from __future__ import annotations

import socket

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
