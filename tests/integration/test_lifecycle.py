"""The provider lifecycle's wiring in real Envoy (the state machine itself is unit-tested in src/lifecycle): keys
older than `max_stale_s` are dropped (503 + Retry-After, not 401; logged and counted once), and a JWKS answer of 429
or 503 is retried no sooner than its Retry-After says."""

from __future__ import annotations

import time

from harness.keys import claims, make_token
from harness.plugin import AUDIENCE, issuer_of, plugin, provider


def _token(keys) -> str:
    return make_token(keys.rs256, claims(issuer_of("prod"), AUDIENCE))


def test_keys_older_than_max_stale_are_dropped_then_revived(launch, jwks_server, keys):
    jwks_server.heal()
    jwks_server.publish(keys.rs256)
    envoy = launch(plugin(provider("prod", refresh_interval_s=1, max_stale_s=2, jwks_timeout_ms=300)),
                   clusters={"jwks": jwks_server.port})
    envoy.wait_metric("jwt_guard.jwks_fetch_success.prod", 1)
    assert envoy.get("/api", token=_token(keys)).status == 200
    jwks_server.fail("status", status=500)
    try:
        deadline = time.monotonic() + 10
        while (resp := envoy.get("/api", token=_token(keys))).status == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert resp.status == 503, f"stale keys still in use: {resp.status} {resp.body!r}"
        assert int(resp.header("retry-after")) >= 1
        assert resp.json()["error"] == "temporarily_unavailable"
        envoy.wait_metric("jwt_guard.jwks_stale_drops.prod", 1)
        envoy.wait_log(r"provider prod: keys dropped, last successful fetch \d+s ago exceeds max_stale_s")
        time.sleep(1.5)
        assert envoy.metric("jwt_guard.jwks_stale_drops.prod") == 1, "dropped once, not per request or per tick"
    finally:
        jwks_server.heal()
    deadline = time.monotonic() + 20
    while (resp := envoy.get("/api", token=_token(keys))).status != 200 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert resp.status == 200, "a successful fetch brings the keys back"


def test_retry_after_of_a_429_is_honoured(launch, jwks_server, keys):
    jwks_server.publish(keys.rs256)
    jwks_server.fail("status", status=429, retry_after="4")
    jwks_server.reset_counters()
    try:
        envoy = launch(plugin(provider("prod", jwks_timeout_ms=300)), clusters={"jwks": jwks_server.port})
        envoy.wait_metric("jwt_guard.jwks_fetch_failure.prod", 1)
        resp = envoy.get("/api", token=_token(keys))
        assert resp.status == 503
        assert 2 <= int(resp.header("retry-after")) <= 4, resp.header("retry-after")
        time.sleep(2.5)
        assert jwks_server.hits() == 1, "no retry before Retry-After (the backoff alone would retry after 1 s)"
    finally:
        jwks_server.heal()
    envoy.wait_metric("jwt_guard.jwks_fetch_success.prod", 1, timeout=10)
    assert jwks_server.hits() == 2
    assert envoy.get("/api", token=_token(keys)).status == 200
