"""RSA keys with a public exponent other than 65537 are refused, each with a warning that names the exponent and a
per-provider gauge, whichever signature backend runs; the provider's other keys keep working.

jwt-simple (the reference backend, and the one PS256/384/512 always use) verifies with e = 65537 only. Accepting an
e = 3 key on the host alone would make a token's fate depend on the backend a worker chose (`auto` falls back to
jwt-simple when the host's self-test fails; `both` would disagree by design), so jwt-guard refuses such keys
everywhere. tests/wycheproof.rs and test_wycheproof_envoy.py show Envoy's BoringSSL verifying Wycheproof's e = 3
vectors correctly: the refusal is a policy, not a gap in the host.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.keys import SigningKey, claims, jwks, make_token
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

INLINE = "https://inline.tenant.test/"


@pytest.fixture(scope="module")
def small_exponent() -> SigningKey:
    return SigningKey("rsa-e3", "RS256", rsa.generate_private_key(public_exponent=3, key_size=2048))


@pytest.fixture(scope="module", params=["host", "jwt-simple"])
def envoy(request, module_launch, jwks_server, keys, small_exponent):
    jwks_server.publish(small_exponent, keys.rs256)
    inline = json.dumps(jwks(small_exponent, keys.rs256))
    config = plugin(
        provider("prod"),
        provider("inline", issuer=INLINE, cluster=None, jwks=inline),
        signature_backend=request.param,
    )
    return module_launch(config, clusters={"jwks": jwks_server.port})


def test_the_key_is_refused_and_the_others_kept(envoy, keys, small_exponent):
    for issuer in (issuer_of("prod"), INLINE):
        assert envoy.get("/", token=make_token(keys.rs256, claims(issuer, AUDIENCE))).status == 200
        before = envoy.metric("jwt_guard.denied.unknown_key")
        response = envoy.get("/", token=make_token(small_exponent, claims(issuer, AUDIENCE)))
        assert response.status == 401
        assert envoy.metric("jwt_guard.denied.unknown_key") == before + 1


def test_each_refused_key_is_named_in_a_warning_and_counted(envoy):
    for name in ("prod", "inline"):
        envoy.wait_log(rf'provider {name}: skipped key 0 \(Some\("rsa-e3"\)\): RSA public exponent 3 is not 65537')
        assert envoy.wait_metric(f"jwt_guard.jwks_rsa_exponent_refused.{name}", 1) == 1
        assert envoy.metric(f"jwt_guard.jwks_keys.{name}") == 1
