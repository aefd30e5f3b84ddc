"""Keys and the cache: cached verdicts are bound to the verifying key's material; a key replaced under
the same kid is picked up at once through the rate-limited refetch; a key verifies only its declared alg, and a key
without alg only its type's default unless `algorithms` lists more."""

from __future__ import annotations

import time

import pytest

from harness.assertions import assert_invalid_token
from harness.keys import SigningKey, claims, ec_key, make_token, rsa_key
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

ISSUER = issuer_of("prod")


def token(key, **extra) -> str:
    return make_token(key, claims(ISSUER, AUDIENCE, **extra))


def test_key_replaced_under_the_same_kid(launch, fresh_jwks):
    old, new = ec_key("fixed"), ec_key("fixed")
    fresh_jwks.publish(old)
    envoy = launch(plugin(provider("prod", refetch_cooldown_s=1)), clusters={"jwks": fresh_jwks.port})
    stale = token(old)
    assert envoy.get("/api", token=stale).status == 200
    assert envoy.get("/api", token=stale).status == 200
    envoy.wait_metric("jwt_guard.token_cache.hit", 1)
    time.sleep(1.1)  # past the refetch cooldown of the first fetch
    fresh_jwks.publish(new)
    fresh = token(new)
    assert envoy.get("/api", token=fresh).status == 200, "a new key under a known kid is fetched at once"
    # The cached verdict of the old key ends at the same moment its fresh tokens do.
    assert_invalid_token(envoy.get("/api", token=stale), stale, r"signature")
    assert_invalid_token(envoy.get("/api", token=token(old)), stale, r"signature")


def test_bad_signatures_cost_at_most_one_fetch_per_cooldown(launch, fresh_jwks):
    key = rsa_key("k1")
    fresh_jwks.publish(key)
    envoy = launch(plugin(provider("prod", refetch_cooldown_s=60)), clusters={"jwks": fresh_jwks.port})
    assert envoy.get("/api", token=token(key)).status == 200
    hits = fresh_jwks.hits()
    forged = token(rsa_key("k1"))  # same kid, another key: the signature fails
    for _ in range(20):
        assert_invalid_token(envoy.get("/api", token=forged), forged, r"signature")
    assert fresh_jwks.hits() - hits <= 1


def test_a_key_without_alg_serves_only_its_default(launch, fresh_jwks):
    key = rsa_key("bare", "PS256")
    fresh_jwks.publish(key.jwk(alg=None))
    envoy = launch(plugin(provider("prod")), clusters={"jwks": fresh_jwks.port})
    ps = token(key)
    assert_invalid_token(envoy.get("/api", token=ps), ps, r"algorithm")
    # RS256 over the same key is the default for an alg-less RSA key.
    assert envoy.get("/api", token=token(SigningKey(key.kid, "RS256", key.private))).status == 200


def test_listed_algorithms_widen_an_alg_less_key(launch, fresh_jwks):
    key = rsa_key("bare", "PS256")
    fresh_jwks.publish(key.jwk(alg=None))
    envoy = launch(plugin(provider("prod", algorithms=["RS256", "PS256"])), clusters={"jwks": fresh_jwks.port})
    assert envoy.get("/api", token=token(key)).status == 200
