"""Headers the upstream reads: inbound copies of every header jwt-guard sets are removed in every
spelling an upstream may read as the same name (any case, `_` for `-`), on anonymous routes too and for claims the
token does not carry; claim values a hop would change are withheld, never forwarded altered."""

from __future__ import annotations

import json

import pytest

from harness.keys import claims, jwks, make_token
from harness.plugin import AUDIENCE, issuer_of
from harness.recording import RecordingUpstream, start_envoy

ISSUER = issuer_of("prod")
FORWARD = {"sub": "x-jwt-sub", "nick": "x-jwt-nick", "org": "x-jwt-org"}
MANAGED = ["x-jwt-sub", "x-jwt-nick", "x-jwt-org", "x-jwt-payload", "x-jwt-provider"]
SPOOFS = ["X-Jwt-Sub", "x_jwt_sub", "X_JWT_SUB", "x-jwt_sub", "X_Jwt-Nick", "x_jwt_org", "X-JWT-PAYLOAD",
          "x_jwt_payload", "x_jwt_provider", "X-Jwt-Provider"]


def canonical(name: str) -> str:
    return name.lower().replace("_", "-")


@pytest.fixture(scope="module")
def upstream():
    server = RecordingUpstream("headers")
    yield server
    server.close()


@pytest.fixture(scope="module")
def envoy(upstream, keys, wasm_path, tmp_path_factory):
    provider = {"name": "prod", "issuer": ISSUER, "audiences": [AUDIENCE], "jwks": json.dumps(jwks(keys.rs256))}
    config = {"providers": [provider], "rules": [{"prefix": "/public", "allow_anonymous": True}],
              "forward_claims": FORWARD, "forward_payload_header": "x-jwt-payload",
              "forward_provider_header": "x-jwt-provider", "max_token_bytes": 16384}
    proc = start_envoy(tmp_path_factory.mktemp("headers"), config, wasm_path, upstream)
    yield proc
    proc.stop()


def received(upstream: RecordingUpstream):
    (seen,) = upstream.received()
    upstream.clear()
    return seen


def spoofed() -> list[tuple[str, str]]:
    return [(name, "spoofed") for name in SPOOFS]


def test_anonymous_requests_lose_every_spelling(envoy, upstream):
    upstream.clear()
    assert envoy.get("/public/x", spoofed()).status == 200
    seen = received(upstream)
    assert not {canonical(n) for n in seen.header_names()} & set(MANAGED), seen.headers


def test_claims_the_token_lacks_are_not_spoofable(envoy, upstream, keys):
    upstream.clear()
    token = make_token(keys.rs256, claims(ISSUER, AUDIENCE, sub="user-7"))
    assert envoy.get("/api", spoofed(), token=token).status == 200
    seen = received(upstream)
    names = {canonical(n) for n in seen.header_names()}
    assert "x-jwt-nick" not in names and "x-jwt-org" not in names, seen.headers
    assert seen.values("x-jwt-sub") == ["user-7"]
    assert seen.values("x-jwt-provider") == ["prod"]
    assert "spoofed" not in [v for _, v in seen.headers]


@pytest.mark.parametrize("nick", [" leading", "trailing ", "\tleading-tab", "trailing-tab\t", "a\u0001b", "x" * 9000],
                         ids=["lead-sp", "trail-sp", "lead-tab", "trail-tab", "control", "too-long"])
def test_values_a_hop_would_change_are_withheld(envoy, upstream, keys, nick):
    upstream.clear()
    before = envoy.metric("jwt_guard.claims_withheld")
    token = make_token(keys.rs256, claims(ISSUER, AUDIENCE, sub="user-8", nick=nick, org={"id": 1}))
    assert envoy.get("/api", token=token).status == 200
    assert envoy.wait_metric("jwt_guard.claims_withheld", before + 1) == before + 1
    seen = received(upstream)
    assert seen.values("x-jwt-nick") == []
    assert seen.values("x-jwt-sub") == ["user-8"]
    assert seen.values("x-jwt-org") == ['{"id":1}']


def test_clean_values_are_forwarded_exactly(envoy, upstream, keys):
    upstream.clear()
    token = make_token(keys.rs256, claims(ISSUER, AUDIENCE, nick="Ada  Lovelace"))
    assert envoy.get("/api", token=token).status == 200
    assert received(upstream).values("x-jwt-nick") == ["Ada  Lovelace"]


def test_a_bearer_token_beside_another_authorization_line_is_refused(envoy, upstream, keys):
    # Envoy joins the two lines into "Basic …,Bearer …"; an upstream splitting on "," would read the token, so
    # even the anonymous route refuses it instead of forwarding it unverified.
    upstream.clear()
    token = make_token(keys.rs256, claims(ISSUER, AUDIENCE))
    for path in ["/public/x", "/api"]:
        resp = envoy.get(path, [("authorization", "Basic dXNlcjpwYXNz"), ("authorization", f"Bearer {token}")])
        assert resp.status == 401 and resp.json()["error"] == "invalid_request", resp.body
    assert upstream.received() == []
