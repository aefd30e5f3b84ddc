"""Several providers in one filter: per-issuer key sets, audiences and algorithm allow-lists, and an inline JWKS."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from harness.assertions import assert_invalid_token
from harness.keys import claims, ec_key, jwks, make_token, rsa_key
from harness.plugin import AUDIENCE, plugin, provider

ALPHA_ISSUER = "https://auth.tenant.test/alpha/"
ALPHA_PATH = "/alpha/.well-known/jwks.json"  # default jwks_uri: issuer + .well-known/jwks.json
BETA_ISSUER = "https://beta.tenant.test/"
BETA_AUDIENCE = "https://beta.api.test"
BETA_PATH = "/beta/jwks.json"
INLINE_ISSUER = "https://inline.tenant.test/"


@pytest.fixture(scope="module")
def deployment(module_launch, jwks_server, keys):
    shared = SimpleNamespace(alpha=rsa_key("shared"), beta=ec_key("shared"))
    jwks_server.publish(keys.rs256, shared.alpha, path=ALPHA_PATH)
    jwks_server.publish(keys.es256, shared.beta, keys.rs384, path=BETA_PATH)
    config = plugin(
        provider("alpha", issuer=ALPHA_ISSUER),
        provider("beta", issuer=BETA_ISSUER, audiences=[BETA_AUDIENCE], cluster="jwks_beta",
                 jwks_uri=f"https://keys.tenant.test{BETA_PATH}", algorithms=["ES256"]),
        provider("inline", issuer=INLINE_ISSUER, cluster=None, jwks=json.dumps(jwks(keys.eddsa))),
    )
    envoy = module_launch(config, clusters={"jwks": jwks_server.port, "jwks_beta": jwks_server.port})
    return SimpleNamespace(envoy=envoy, jwks=jwks_server, shared=shared)


def alpha(key, **extra):
    return make_token(key, claims(ALPHA_ISSUER, AUDIENCE, **extra))


def beta(key, **extra):
    return make_token(key, claims(BETA_ISSUER, BETA_AUDIENCE, **extra))


def metric(deployment, name):
    return deployment.envoy.metric(f"jwt_guard.{name}")


def test_each_issuer_accepts_tokens_signed_with_its_own_keys(deployment, keys):
    tokens = {
        "alpha/rsa-1": alpha(keys.rs256),
        "alpha/shared": alpha(deployment.shared.alpha),
        "beta/ec-256": beta(keys.es256),
        "beta/shared": beta(deployment.shared.beta),
        "inline/ed-1": make_token(keys.eddsa, claims(INLINE_ISSUER, AUDIENCE)),
    }
    statuses = {name: deployment.envoy.get("/api", token=token).status for name, token in tokens.items()}
    assert statuses == {name: 200 for name in tokens}


@pytest.mark.parametrize(
    "case",
    ["alpha-iss/beta-key", "beta-iss/alpha-key", "alpha-iss/beta-shared-kid", "beta-iss/alpha-shared-kid",
     "alpha-iss/inline-key"],
)
def test_keys_of_another_issuer_are_rejected(deployment, keys, case):
    shared = deployment.shared
    token, pattern = {
        "alpha-iss/beta-key": (alpha(keys.es256), r"unknown key"),
        "beta-iss/alpha-key": (beta(keys.rs256), r"unknown key|algorithm"),
        "alpha-iss/beta-shared-kid": (alpha(shared.beta), r"algorithm|signature"),
        "beta-iss/alpha-shared-kid": (beta(shared.alpha), r"algorithm|signature"),
        "alpha-iss/inline-key": (alpha(keys.eddsa), r"unknown key"),
    }[case]
    assert_invalid_token(deployment.envoy.get("/api", token=token), token, pattern)


def test_algorithm_outside_the_providers_allow_list(deployment, keys):
    token = beta(keys.rs384)  # kid rsa-384 is in beta's JWKS, but beta allows only ES256
    before = metric(deployment, "denied.algorithm")
    assert_invalid_token(deployment.envoy.get("/api", token=token), token, r"algorithm")
    assert metric(deployment, "denied.algorithm") == before + 1


def test_audiences_are_per_provider(deployment, keys):
    token = make_token(keys.rs256, claims(ALPHA_ISSUER, BETA_AUDIENCE))
    assert_invalid_token(deployment.envoy.get("/api", token=token), token, r"audience")


def test_unknown_issuer(deployment, keys):
    token = make_token(keys.rs256, claims("https://gamma.tenant.test/", AUDIENCE))
    before = metric(deployment, "denied.unknown_issuer")
    assert_invalid_token(deployment.envoy.get("/api", token=token), token, r"issuer")
    assert metric(deployment, "denied.unknown_issuer") == before + 1


def test_each_jwks_is_fetched_from_its_own_uri_and_inline_keys_are_not_fetched(deployment, keys):
    assert deployment.envoy.get("/api", token=alpha(keys.rs256)).status == 200
    assert deployment.envoy.get("/api", token=beta(keys.es256)).status == 200
    server = deployment.jwks
    assert server.hits(ALPHA_PATH) >= 1 and server.last_host(ALPHA_PATH) == "auth.tenant.test"
    assert server.hits(BETA_PATH) >= 1 and server.last_host(BETA_PATH) == "keys.tenant.test"
    assert server.hits("/.well-known/jwks.json") == 0


def test_per_provider_key_metrics(deployment, keys):
    assert deployment.envoy.get("/api", token=alpha(keys.rs256)).status == 200
    stats = deployment.envoy.stats()
    for name in ("alpha", "beta"):
        assert stats.get(f"jwt_guard.jwks_fetch_success.{name}", 0) >= 1, name
        assert f"jwt_guard.jwks_age_s.{name}" in stats, name
    assert stats.get("jwt_guard.jwks_keys.alpha") == 2
    assert stats.get("jwt_guard.jwks_keys.beta") in (2, 3)  # its RS384 key is unusable under ES256-only
    assert stats.get("jwt_guard.jwks_keys.inline") == 1
