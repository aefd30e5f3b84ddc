"""Top-level token_sources (a scheme header, a raw header, a cookie), one source per request, and what a token
that is not a JWS is told: opaque and encrypted tokens from a real OpenID provider."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.assertions import assert_invalid_token, assert_json_error, assert_missing_token, challenge
from harness.envoy import assert_refuses
from harness.keys import claims, make_token, rsa_key
from harness.oidc_provider import API, OidcProvider
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

SOURCES = [
    {"header": "authorization", "scheme": "Bearer"},
    {"header": "X-Access-Token"},
    {"cookie": "access_token"},
]


@pytest.fixture(scope="module")
def deployment(module_launch, jwks_server):
    key = rsa_key("sources-1")
    jwks_server.publish(key)
    envoy = module_launch(plugin(provider("src"), token_sources=SOURCES, forward_claims={"sub": "x-jwt-sub"}),
                          clusters={"jwks": jwks_server.port})
    token = make_token(key, claims(issuer_of("src"), AUDIENCE, sub="user-7"))
    return SimpleNamespace(envoy=envoy, token=token)


def test_each_source_carries_a_token(deployment):
    env, token = deployment.envoy, deployment.token
    for headers in ([("authorization", f"Bearer {token}")], [("x-access-token", token)],
                    [("cookie", f"theme=dark; access_token={token}; sid=1")]):
        resp = env.get("/api", headers)
        assert resp.status == 200, (headers[0][0], resp.body)
        assert resp.upstream_headers()["x-jwt-sub"] == ["user-7"]


def test_credentials_in_two_sources_are_an_invalid_request(deployment):
    env, token = deployment.envoy, deployment.token
    for headers in ([("authorization", f"Bearer {token}"), ("cookie", f"access_token={token}")],
                    [("x-access-token", token), ("cookie", f"access_token={token}")]):
        resp = env.get("/api", headers)
        assert_json_error(resp, 401, "invalid_request")
        assert challenge(resp)[1]["error_description"] == "credentials in more than one place"


def test_a_repeated_token_header_is_an_invalid_request(deployment):
    env, token = deployment.envoy, deployment.token
    resp = env.get("/api", [("x-access-token", token), ("x-access-token", token)])
    assert_json_error(resp, 401, "invalid_request")
    resp = env.get("/api", [("cookie", f"access_token={token}"), ("cookie", f"sid=1; access_token={token}")])
    assert_json_error(resp, 401, "invalid_request")


def test_cookies_are_parsed_strictly(deployment):
    env, token = deployment.envoy, deployment.token
    assert_missing_token(env.get("/api", [("cookie", f"Access_Token={token}; xaccess_token={token}")]))
    for cookie in (f"access_token={token}; access_token={token}", "access_token=a b"):
        assert_json_error(env.get("/api", [("cookie", cookie)]), 401, "invalid_request")


def test_the_authorization_header_with_another_scheme_is_not_a_token(deployment):
    resp = deployment.envoy.get("/api", [("authorization", "Basic dXNlcjpwdw=="), ("x-access-token", deployment.token)])
    assert resp.status == 200


def test_a_source_not_listed_is_ignored(launch, jwks_server):
    key = rsa_key("cookie-only")
    jwks_server.publish(key)
    envoy = launch(plugin(provider("src"), token_sources=[{"cookie": "at"}]), clusters={"jwks": jwks_server.port})
    token = make_token(key, claims(issuer_of("src"), AUDIENCE))
    assert_missing_token(envoy.get("/api", token=token))
    assert envoy.get("/api", [("cookie", f"at={token}")]).status == 200


@pytest.fixture(scope="module")
def idp():
    op = OidcProvider(resources={
        API: {"format": "jwt", "scope": "read:data"},
        "https://opaque.example.test": {"format": "opaque", "scope": "read:data"},
        "https://encrypted.example.test": {"format": "jwe", "scope": "read:data"},
    })
    yield op
    op.close()


@pytest.fixture(scope="module")
def op_envoy(module_launch, idp):
    config = plugin(provider("op", issuer=idp.issuer, audiences=[API], cluster="idp", jwks_uri=f"{idp.issuer}/jwks"))
    return module_launch(config, clusters={"idp": idp.port})


def test_an_opaque_token_is_told_to_ask_for_an_audience(op_envoy, idp):
    token = idp.token("https://opaque.example.test")
    assert "." not in token
    description = assert_invalid_token(op_envoy.get("/api", token=token), token, "not a JWT")
    assert description == "token is not a JWT: request an access token with this API's audience"
    assert op_envoy.metric("jwt_guard.denied.not_jwt") >= 1


def test_an_encrypted_token_is_named_as_such(op_envoy, idp):
    token = idp.token("https://encrypted.example.test")
    assert token.count(".") == 4
    description = assert_invalid_token(op_envoy.get("/api", token=token), token, "encrypted")
    assert description == "token is encrypted (JWE); jwt-guard verifies signed tokens only"
    assert op_envoy.metric("jwt_guard.denied.encrypted") >= 1
    assert op_envoy.get("/api", token=idp.token()).status == 200


@pytest.mark.parametrize(
    "sources, field",
    [
        ([], r"token_sources"),
        ([{"header": "x", "cookie": "y"}], r"token_sources\[0\]"),
        ([{"cookie": "c", "scheme": "Bearer"}], r"token_sources\[0\]\.scheme"),
        ([{"header": "cookie"}], r"token_sources\[0\]\.header"),
        ([{"query": "access_token"}], r"query"),
    ],
)
def test_configuration_errors_name_the_field(launch, sources, field):
    assert_refuses(launch.prepare(plugin(provider("p"), token_sources=sources)), field)
