"""Fixtures shared by every test folder (demo, browser, compose, deploy, integration)."""

from __future__ import annotations

import socket
from typing import Callable

import pytest


def _free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports the kernel reports free (all held open until each is known)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="session")
def free_ports() -> Callable[[int], list[int]]:
    """A function giving `count` free loopback ports, for processes that need their ports up front."""
    return _free_ports
