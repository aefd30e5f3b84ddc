"""Access tokens from a real OpenID provider (panva's oidc-provider, RFC 9068 JWT access tokens) through Envoy."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from support.assertions import assert_invalid_token
from support.oidc_provider import API, OidcProvider, token_claims, token_header
from support.plugin import plugin, provider

OTHER_API = "https://other-api.example.test"


@pytest.fixture(scope="module")
def idp():
    op = OidcProvider(
        resources={
            API: {"format": "jwt", "scope": "read:data write:admin"},
            OTHER_API: {"format": "jwt", "scope": "read:data"},
            "https://es256.example.test": {"format": "jwt", "scope": "read:data", "alg": "ES256"},
        },
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
