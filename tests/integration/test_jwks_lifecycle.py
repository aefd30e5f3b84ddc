"""Key acquisition over time: cold start, fetch failures, rotation and the unknown-kid refetch cooldown (which
doubles while refetches find nothing new)."""

from __future__ import annotations

import time

import pytest

from harness.assertions import assert_invalid_token, assert_json_error
from harness.keys import claims, ec_key, make_token
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

ISSUER = issuer_of("prod")


def start(launch, fresh_jwks, **fields):
    """Envoy with the single provider "prod" fetching from `fresh_jwks`."""
    return launch(plugin(provider("prod", **fields)), clusters={"jwks": fresh_jwks.port})


def token(key, **extra):
    return make_token(key, claims(ISSUER, AUDIENCE, **extra))


def metric(envoy, name):
    return envoy.metric(f"jwt_guard.{name}")


def assert_unavailable(resp):
    """503 temporarily_unavailable with a Retry-After in whole seconds."""
    assert_json_error(resp, 503, "temporarily_unavailable")
    retry_after = resp.header("retry-after")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, resp.headers


def test_cold_start_request_is_held_until_keys_arrive(launch, fresh_jwks, keys):
    fresh_jwks.publish(keys.rs256)
    fresh_jwks.delay(1.5)
    envoy = start(launch, fresh_jwks, jwks_timeout_ms=5000)
    assert fresh_jwks.served() == 0, "precondition: the JWKS answer must still be in flight at the first request"
    resp = envoy.get("/api", token=token(keys.rs256))
    assert resp.status == 200, resp.body
    assert fresh_jwks.served() >= 1
    envoy.wait_log(r"\[info\].*provider prod: key set updated\D*\b1\b")


@pytest.mark.parametrize("fault", ["status-500", "garbage", "timeout"])
def test_cold_start_without_obtainable_keys_is_503(launch, fresh_jwks, keys, fault):
    fresh_jwks.publish(keys.rs256)
    if fault == "timeout":
        fresh_jwks.delay(3)
    else:
        fresh_jwks.fail("status" if fault == "status-500" else fault, status=500)
    envoy = start(launch, fresh_jwks, jwks_timeout_ms=500)
    assert_unavailable(envoy.get("/api", token=token(keys.rs256)))
    assert metric(envoy, "denied.keys_unavailable") == 1
    assert metric(envoy, "jwks_fetch_failure.prod") >= 1
    assert metric(envoy, "jwks_fetch_success.prod") == 0


def test_keys_are_obtained_once_the_jwks_recovers(launch, fresh_jwks, keys):
    fresh_jwks.publish(keys.rs256)
    fresh_jwks.fail("status", status=500)
    envoy = start(launch, fresh_jwks)
    assert_unavailable(envoy.get("/api", token=token(keys.rs256)))
    fresh_jwks.heal()
    deadline = time.monotonic() + 20
    while (status := envoy.get("/api", token=token(keys.rs256)).status) != 200 and time.monotonic() < deadline:
        assert status == 503, f"while recovering: {status}"
        time.sleep(0.2)
    assert status == 200, "keys never arrived after the JWKS recovered"
    assert metric(envoy, "jwks_fetch_success.prod") >= 1


def test_rotation_new_kid_triggers_refetch_and_removed_kid_is_rejected(launch, fresh_jwks, keys):
    old, new = keys.rs256, keys.rs256_next
    fresh_jwks.publish(old)
    envoy = start(launch, fresh_jwks, refetch_cooldown_s=1)
    old_token = token(old)
    assert envoy.get("/api", token=old_token).status == 200
    fresh_jwks.publish(new)  # the old key is removed: a complete rotation
    fresh_jwks.wait_quiet(1.5)
    before = fresh_jwks.hits()
    resp = envoy.get("/api", token=token(new))
    assert resp.status == 200, resp.body
    assert fresh_jwks.hits() == before + 1, "the unknown kid did not cause exactly one refetch"
    # The very token accepted before (possibly cached as verified) must now fail: its key is gone.
    assert_invalid_token(envoy.get("/api", token=old_token), old_token, r"unknown key")


def test_periodic_refresh_drops_a_removed_key(launch, fresh_jwks, keys):
    old, new = keys.rs256, keys.rs256_next
    fresh_jwks.publish(old, new)
    envoy = start(launch, fresh_jwks, refresh_interval_s=2, refetch_cooldown_s=30)
    old_token = token(old)
    assert envoy.get("/api", token=old_token).status == 200
    assert envoy.get("/api", token=token(new)).status == 200
    fresh_jwks.publish(new)
    envoy.wait_metric("jwt_guard.jwks_fetch_success.prod", metric(envoy, "jwks_fetch_success.prod") + 1)
    # The fetching thread may not be the one serving traffic: a worker picks up the new
    # shared key set (and drops cached tokens of the removed key) on its next tick, <= 1 s.
    deadline = time.monotonic() + 2.5
    while envoy.get("/api", token=old_token).status == 200:
        assert time.monotonic() < deadline, "the removed key still verifies 2.5 s after the fetch"
        time.sleep(0.05)
    assert_invalid_token(envoy.get("/api", token=old_token), old_token, r"unknown key")
    assert envoy.get("/api", token=token(new)).status == 200
    assert metric(envoy, "jwks_keys.prod") == 1


def test_unknown_kid_refetch_happens_at_most_once_per_cooldown(launch, fresh_jwks, keys):
    cooldown = 3
    fresh_jwks.publish(keys.rs256)
    envoy = start(launch, fresh_jwks, refetch_cooldown_s=cooldown)
    assert envoy.get("/api", token=token(keys.rs256)).status == 200
    strangers = [ec_key(f"unknown-{i}") for i in range(10)]

    fresh_jwks.wait_quiet(cooldown + 0.5)
    before = fresh_jwks.hits()
    started = time.monotonic()
    for stranger in strangers:
        bad = token(stranger)
        assert_invalid_token(envoy.get("/api", token=bad), bad, r"unknown key")
    assert time.monotonic() - started < cooldown, "precondition: the burst must fit in one cooldown window"
    assert fresh_jwks.hits() == before + 1, f"{fresh_jwks.hits() - before} refetches in one cooldown window, want 1"

    # That refetch found no new key, so the cooldown doubled: no refetch after one cooldown, one after two.
    fresh_jwks.wait_quiet(cooldown + 0.5)
    bad = token(strangers[0])
    assert_invalid_token(envoy.get("/api", token=bad), bad, r"unknown key")
    assert fresh_jwks.hits() == before + 1, "a refetch within the doubled cooldown"
    fresh_jwks.wait_quiet(2 * cooldown + 0.5)
    assert_invalid_token(envoy.get("/api", token=bad), bad, r"unknown key")
    assert fresh_jwks.hits() == before + 2, "no refetch once the doubled cooldown had passed"
    assert envoy.get("/api", token=token(keys.rs256)).status == 200
