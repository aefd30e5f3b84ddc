"""Methods: a rule listing GET governs HEAD; method-override headers make the request be judged as
the strictest of its method and every override value; `method_override: "strip"` removes them instead."""

from __future__ import annotations

import json

import pytest

from harness.assertions import assert_insufficient_scope, assert_missing_token
from harness.keys import claims, jwks, make_token
from harness.plugin import AUDIENCE, issuer_of
from harness.recording import RecordingUpstream, start_envoy

ISSUER = issuer_of("prod")
RULES = [
    {"prefix": "/items", "methods": ["GET"], "allow_anonymous": True},
    {"prefix": "/reports", "methods": ["GET"], "scopes": ["read:reports"]},
    {"prefix": "/admin", "methods": ["DELETE"], "scopes": ["write:admin"]},
]
OVERRIDES = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "x_http_method_override",
             "X_HTTP_METHOD", "x-method_override"]


def plugin_config(key, **extra) -> dict:
    provider = {"name": "prod", "issuer": ISSUER, "audiences": [AUDIENCE], "jwks": json.dumps(jwks(key))}
    return {"providers": [provider], "rules": RULES, **extra}


@pytest.fixture(scope="module")
def upstream():
    server = RecordingUpstream("methods")
    yield server
    server.close()


@pytest.fixture(scope="module")
def judge(upstream, keys, wasm_path, tmp_path_factory):
    envoy = start_envoy(tmp_path_factory.mktemp("methods"), plugin_config(keys.rs256), wasm_path, upstream)
    yield envoy
    envoy.stop()


def bearer(keys, scope: str) -> dict:
    return {"authorization": f"Bearer {make_token(keys.rs256, claims(ISSUER, AUDIENCE, scope=scope))}"}


def test_get_rule_governs_head(judge, upstream, keys):
    upstream.clear()
    assert judge.get("/items/1", method="HEAD").status == 200
    assert [r.method for r in upstream.received()] == ["HEAD"]
    assert_missing_token(judge.get("/items/1", method="POST"))
    token = bearer(keys, "openid")
    resp = judge.get("/reports/1", token, method="HEAD")
    assert resp.status == 403, "HEAD is served by the GET handler: the GET rule's scope applies"
    assert judge.get("/reports/1", bearer(keys, "read:reports"), method="HEAD").status == 200


@pytest.mark.parametrize("header", OVERRIDES)
def test_override_headers_are_judged_strictest(judge, upstream, header):
    upstream.clear()
    assert_missing_token(judge.get("/items/1", {header: "DELETE"}))
    assert_missing_token(judge.get("/items/1", {header: "get, put"}))
    assert upstream.received() == []
    assert judge.get("/items/1", {header: "GET"}).status == 200


def test_override_selects_a_scoped_rule(judge, keys):
    weak = bearer(keys, "openid")
    token = weak["authorization"].split(" ", 1)[1]
    assert judge.get("/admin/x", weak).status == 200
    assert_insufficient_scope(judge.get("/admin/x", {**weak, "X-HTTP-Method-Override": "DELETE"}), token,
                              "write:admin")


def test_strip_mode_removes_every_spelling(upstream, keys, wasm_path, tmp_path_factory):
    envoy = start_envoy(tmp_path_factory.mktemp("methods-strip"), plugin_config(keys.rs256, method_override="strip"),
                        wasm_path, upstream)
    try:
        upstream.clear()
        headers = [(h, "DELETE") for h in OVERRIDES]
        assert envoy.get("/items/1", headers).status == 200
        (seen,) = upstream.received()
        names = {n.replace("_", "-") for n in seen.header_names()}
        assert not names & {"x-http-method-override", "x-http-method", "x-method-override"}, seen.headers
    finally:
        envoy.stop()
