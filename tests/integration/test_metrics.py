"""Metrics of the shared deployment: allowed counter and per-provider key gauges (denials are checked per reason
in test_validation and test_rules)."""

from __future__ import annotations


def test_allowed_counter(guard):
    before = guard.metric("allowed")
    assert guard.get("/api", token=guard.token()).status == 200
    assert guard.metric("allowed") == before + 1


def test_rejections_do_not_count_as_allowed(guard):
    before = guard.metric("allowed")
    assert guard.get("/api").status == 401
    assert guard.get("/api", token=guard.token(aud="https://other.api.test")).status == 401
    assert guard.metric("allowed") == before


def test_key_set_gauges_and_fetch_counter(guard, keys):
    assert guard.get("/api", token=guard.token()).status == 200
    stats = guard.envoy.stats()
    assert stats.get("jwt_guard.jwks_fetch_success.prod", 0) >= 1
    assert stats.get("jwt_guard.jwks_fetch_failure.prod", 0) == 0
    assert stats.get("jwt_guard.jwks_keys.prod") == len(keys.all())
    assert 0 <= stats.get("jwt_guard.jwks_age_s.prod", -1) < 600
