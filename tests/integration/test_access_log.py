"""Refusals are visible in Envoy's access log: jwt-guard's local replies carry response-code details
(`%RESPONSE_CODE_DETAILS%`), as native jwt_authn's do, e.g. `jwt_guard_denied{expired}`."""

from __future__ import annotations

import socket

import pytest

from support.envoy import Envoy, access_log, wait_lines
from support.keys import claims, make_token
from support.plugin import AUDIENCE, issuer_of, plugin, provider


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def logged(tmp_path_factory, wasm_path, upstream, jwks_server, keys):
    """An Envoy with an access log; provider `prod` has keys, provider `down` never gets any."""
    jwks_server.publish(keys.rs256)
    workdir = tmp_path_factory.mktemp("access-log")
    log_path = workdir / "access.log"
    config = plugin(
        provider("prod"),
        provider("down", cluster="nowhere", jwks_timeout_ms=200),
        rules=[{"prefix": "/public", "allow_anonymous": True}],
    )
    envoy = Envoy(
        workdir, config, wasm_path=wasm_path, upstream_port=upstream.port,
        clusters={"jwks": jwks_server.port, "nowhere": _closed_port()}, customize=access_log(log_path),
    )  # fmt: skip
    envoy.start()
    envoy.wait_metric("jwt_guard.jwks_fetch_success.prod", 1)
    yield envoy, log_path
    envoy.stop()


def _last_line(logged, send) -> str:
    envoy, path = logged
    before = len(wait_lines(path, 0, timeout=0))
    resp = send(envoy)
    lines = wait_lines(path, before + 1)
    assert len(lines) == before + 1, f"no access log line for {resp.status}"
    return lines[-1]


def _token(keys, issuer="prod", **overrides) -> str:
    return make_token(keys.rs256, claims(issuer_of(issuer), AUDIENCE, **overrides))


def test_refusals_name_their_reason(logged, keys):
    cases = {
        "401 jwt_guard_denied{missing_token}": lambda e: e.get("/api"),
        "401 jwt_guard_denied{expired}": lambda e: e.get("/api", token=_token(keys, ttl=-3600)),
        "401 jwt_guard_denied{audience}": lambda e: e.get("/api", token=_token(keys, aud="https://other.test")),
        "401 jwt_guard_denied{malformed}": lambda e: e.get("/api", token="a.b.c"),
        "401 jwt_guard_denied{invalid_request}": lambda e: e.get("/api", {"authorization": "Bearer a b"}),
    }
    for expected, send in cases.items():
        assert _last_line(logged, send) == expected


def test_allowed_requests_keep_envoys_own_details(logged, keys):
    assert _last_line(logged, lambda e: e.get("/api", token=_token(keys))) == "200 via_upstream"
    assert _last_line(logged, lambda e: e.get("/public/x")) == "200 via_upstream"


def test_a_held_request_answered_later_carries_details_too(logged, keys):
    # Provider `down` has no keys: the request is held for its fetch, which fails, then answered from the root context.
    line = _last_line(logged, lambda e: e.get("/api", token=_token(keys, issuer="down")))
    assert line == "503 jwt_guard_denied{keys_unavailable}"
