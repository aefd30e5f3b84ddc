"""Keys and the cache (issue 9 §4): cached verdicts are bound to the verifying key's material; a key replaced under
the same kid is picked up at once through the rate-limited refetch; a key verifies only its declared alg, and a key
without alg only its type's default unless `algorithms` lists more."""

from __future__ import annotations

import time

import pytest

from support.assertions import assert_invalid_token
from support.jwks_server import JwksServer
from support.keys import SigningKey, claims, ec_key, make_token, rsa_key
from support.plugin import AUDIENCE, issuer_of, plugin, provider

ISSUER = issuer_of("prod")


@pytest.fixture
def jwks_server():
    server = JwksServer()
    yield server
    server.close()


def token(key, **extra) -> str:
    return make_token(key, claims(ISSUER, AUDIENCE, **extra))


def test_key_replaced_under_the_same_kid(launch, jwks_server):
    old, new = ec_key("fixed"), ec_key("fixed")
    jwks_server.publish(old)
    envoy = launch(plugin(provider("prod", refetch_cooldown_s=1)), clusters={"jwks": jwks_server.port})
    stale = token(old)
    assert envoy.get("/api", token=stale).status == 200
    assert envoy.get("/api", token=stale).status == 200
    envoy.wait_metric("jwt_guard.token_cache.hit", 1)
    time.sleep(1.1)  # past the refetch cooldown of the first fetch
    jwks_server.publish(new)
    fresh = token(new)
    assert envoy.get("/api", token=fresh).status == 200, "a new key under a known kid is fetched at once"
    # The cached verdict of the old key ends at the same moment its fresh tokens do.
    assert_invalid_token(envoy.get("/api", token=stale), stale, r"signature")
    assert_invalid_token(envoy.get("/api", token=token(old)), stale, r"signature")


def test_bad_signatures_cost_at_most_one_fetch_per_cooldown(launch, jwks_server):
    key = rsa_key("k1")
    jwks_server.publish(key)
    envoy = launch(plugin(provider("prod", refetch_cooldown_s=60)), clusters={"jwks": jwks_server.port})
    assert envoy.get("/api", token=token(key)).status == 200
    hits = jwks_server.hits()
    forged = token(rsa_key("k1"))  # same kid, another key: the signature fails
    for _ in range(20):
        assert_invalid_token(envoy.get("/api", token=forged), forged, r"signature")
    assert jwks_server.hits() - hits <= 1


def test_a_key_without_alg_serves_only_its_default(launch, jwks_server):
    key = rsa_key("bare", "PS256")
    jwks_server.publish(key.jwk(alg=None))
    envoy = launch(plugin(provider("prod")), clusters={"jwks": jwks_server.port})
    ps = token(key)
    assert_invalid_token(envoy.get("/api", token=ps), ps, r"algorithm")
    # RS256 over the same key is the default for an alg-less RSA key.
    assert envoy.get("/api", token=token(SigningKey(key.kid, "RS256", key.private))).status == 200


def test_listed_algorithms_widen_an_alg_less_key(launch, jwks_server):
    key = rsa_key("bare", "PS256")
    jwks_server.publish(key.jwk(alg=None))
    envoy = launch(plugin(provider("prod", algorithms=["RS256", "PS256"])), clusters={"jwks": jwks_server.port})
    assert envoy.get("/api", token=token(key)).status == 200
