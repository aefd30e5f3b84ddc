"""Access tokens from a real OpenID provider (panva's oidc-provider, RFC 9068 JWT access tokens) through Envoy."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.assertions import assert_invalid_token
from harness.keys import claims, make_token, rsa_key
from harness.oidc_provider import API, DEFAULT_CLIENT, OidcProvider, token_claims, token_header
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

OTHER_API = "https://other-api.example.test"


@pytest.fixture(scope="module")
def idp():
    op = OidcProvider(
        resources={
            API: {"format": "jwt", "scope": "read:data write:admin"},
            OTHER_API: {"format": "jwt", "scope": "read:data"},
            "https://es256.example.test": {"format": "jwt", "scope": "read:data", "alg": "ES256"},
        },
        clients=[DEFAULT_CLIENT, ("other-app", "other-secret")],
    )
    yield op
    op.close()


@pytest.fixture(scope="module")
def deployment(module_launch, idp):
    config = plugin(
        provider("op", issuer=idp.issuer, audiences=[API, "https://es256.example.test"], cluster="idp",
                 jwks_uri=f"{idp.issuer}/jwks"),
        rules=[{"prefix": "/admin", "scopes": ["write:admin"]}],
        forward_claims={"sub": "x-jwt-sub", "client_id": "x-jwt-client-id"},
    )
    envoy = module_launch(config, clusters={"idp": idp.port})
    return SimpleNamespace(envoy=envoy, idp=idp)


def test_the_provider_issues_rfc9068_tokens(idp):
    token = idp.token()
    assert token_header(token)["typ"] == "at+jwt"
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} <= token_claims(token).keys()


def test_its_access_tokens_are_accepted_with_claims_forwarded(deployment):
    for token in (deployment.idp.token(), deployment.idp.token("https://es256.example.test")):
        resp = deployment.envoy.get("/api", token=token)
        assert resp.status == 200, resp.body
        seen = resp.upstream_headers()
        assert seen["x-jwt-sub"] == ["spa"] and seen["x-jwt-client-id"] == ["spa"]


def test_scopes_come_from_the_token_endpoint_grant(deployment):
    assert deployment.envoy.get("/admin", token=deployment.idp.token(scope="write:admin")).status == 200
    assert deployment.envoy.get("/admin", token=deployment.idp.token(scope="read:data")).status == 403


def test_a_token_for_another_resource_is_refused(deployment):
    token = deployment.idp.token(OTHER_API)
    assert_invalid_token(deployment.envoy.get("/api", token=token), token, "audience")


@pytest.fixture(scope="module")
def strict(module_launch, idp, jwks_server):
    """Provider "op" with profile rfc9068 and only client "spa"; provider "legacy" (minted tokens) the same."""
    key = rsa_key("legacy-1")
    jwks_server.publish(key)
    config = plugin(
        provider("op", issuer=idp.issuer, audiences=[API], cluster="idp", jwks_uri=f"{idp.issuer}/jwks",
                 profile="rfc9068", clients=["spa"]),
        provider("legacy", profile="rfc9068"),
    )
    envoy = module_launch(config, clusters={"idp": idp.port, "jwks": jwks_server.port})
    return SimpleNamespace(envoy=envoy, key=key)


def test_rfc9068_profile_accepts_the_providers_access_tokens(strict, idp):
    assert strict.envoy.get("/api", token=idp.token()).status == 200


def test_a_token_for_another_client_is_not_accepted(strict, idp):
    token = idp.token(client="other-app")
    assert_invalid_token(strict.envoy.get("/api", token=token), token, "^client not accepted$")
    assert strict.envoy.metric("jwt_guard.denied.client") >= 1


def test_rfc9068_profile_refuses_plain_jwts(strict):
    full = claims(issuer_of("legacy"), AUDIENCE, client_id="spa", jti="j-1")
    token = make_token(strict.key, full)  # typ JWT
    assert_invalid_token(strict.envoy.get("/api", token=token), token, "typ must be at\\+jwt")
    assert strict.envoy.get("/api", token=make_token(strict.key, full, {"typ": "application/AT+JWT"})).status == 200
    no_jti = make_token(strict.key, {k: v for k, v in full.items() if k != "jti"}, {"typ": "at+jwt"})
    assert_invalid_token(strict.envoy.get("/api", token=no_jti), no_jti, "jti is missing")
    assert strict.envoy.metric("jwt_guard.denied.profile") >= 2
