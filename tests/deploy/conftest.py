"""Fixtures for the delivery-path tests: the release artifacts (built once per session by scripts/dist.sh)
and the harness (harness/) for running real Envoy."""

from __future__ import annotations

import subprocess

import pytest

from artifacts import ROOT, Dist
from harness.jwks_server import JwksServer
from harness.keys import rsa_key
from harness.upstream import EchoUpstream


@pytest.fixture(scope="session")
def dist() -> Dist:
    """dist/ as `make dist` leaves it (scripts/dist.sh is run once per session, so the artifacts match the tree)."""
    build = subprocess.run(["scripts/dist.sh"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-4000:]
    return Dist(ROOT / "dist")


@pytest.fixture(scope="session")
def upstream():
    """The echo upstream (harness.upstream) behind every Envoy of these tests."""
    server = EchoUpstream()
    yield server
    server.close()


@pytest.fixture(scope="session")
def signing_key():
    """The stand-in tenant's RS256 key."""
    return rsa_key("tenant-key-1")


@pytest.fixture(scope="session")
def jwks(signing_key):
    """A JWKS server publishing signing_key: the stand-in for the tenant's /.well-known/jwks.json."""
    server = JwksServer()
    server.publish(signing_key)
    yield server
    server.close()
