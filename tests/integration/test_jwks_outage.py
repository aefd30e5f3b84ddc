"""JWKS outages after keys were obtained: the last good keys stay in use and failures are counted."""

from __future__ import annotations

import re

import pytest

from harness.keys import claims, make_token
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

FAULTS = {
    "status-500": ("status", 500),
    "status-503": ("status", 503),
    "status-404": ("status", 404),
    "status-429": ("status", 429),
    "garbage": ("garbage", 200),
    "empty": ("empty", 200),
    "html": ("html", 200),
    "huge": ("huge", 200),
    "timeout": None,
}
TIMEOUT_MS = 500
FAILURE_LINE = re.compile(r"(?i)provider prod\b.*(fail|error)")


@pytest.fixture(scope="module")
def envoy(module_launch, jwks_server, keys):
    """Envoy refreshing every second, with a short callout timeout."""
    jwks_server.publish(keys.rs256, keys.es256)
    config = plugin(provider("prod", refresh_interval_s=1, jwks_timeout_ms=TIMEOUT_MS))
    proxy = module_launch(config, clusters={"jwks": jwks_server.port})
    proxy.wait_metric("jwt_guard.jwks_fetch_success.prod", 1)
    return proxy


@pytest.mark.parametrize("fault", list(FAULTS))
def test_last_good_keys_survive_a_failing_refresh(envoy, jwks_server, keys, fault):
    failure_metric = "jwt_guard.jwks_fetch_failure.prod"
    failures = envoy.metric(failure_metric)
    if FAULTS[fault] is None:
        jwks_server.delay(TIMEOUT_MS / 1000 + 1.5)
    else:
        kind, status = FAULTS[fault]
        jwks_server.fail(kind, status=status)
    try:
        envoy.wait_metric(failure_metric, failures + 1, timeout=15)
        for key in (keys.rs256, keys.es256):
            resp = envoy.get("/api", token=make_token(key, claims(issuer_of("prod"), AUDIENCE)))
            assert resp.status == 200, f"{key.alg} token refused during the outage: {resp.status} {resp.body!r}"
        assert envoy.metric("jwt_guard.jwks_keys.prod") == 2
    finally:
        jwks_server.heal()
    envoy.wait_metric("jwt_guard.jwks_fetch_success.prod", envoy.metric("jwt_guard.jwks_fetch_success.prod") + 1,
                      timeout=20)


def test_fetch_failures_are_logged_per_failure_not_per_request(envoy, jwks_server, keys):
    failure_metric = "jwt_guard.jwks_fetch_failure.prod"
    failures, lines = envoy.metric(failure_metric), _failure_lines(envoy.log())
    jwks_server.fail("status", status=500)
    try:
        envoy.wait_metric(failure_metric, failures + 1, timeout=15)
        for _ in range(20):
            assert envoy.get("/api", token=make_token(keys.rs256, claims(issuer_of("prod"), AUDIENCE))).status == 200
        failed = envoy.metric(failure_metric) - failures
        logged = _failure_lines(envoy.log()) - lines
    finally:
        jwks_server.heal()
    assert 1 <= logged <= failed + 1, f"{logged} failure log lines for {failed} failed fetches"


def _failure_lines(log: str) -> int:
    """Non-debug log lines about a failure of provider prod."""
    return sum(1 for line in log.splitlines() if "[debug]" not in line and FAILURE_LINE.search(line))
