"""Paths: the requirement applied is never looser than the one any reading of the path selects.

Three HCM setups (no normalisation, normalize_path + merge_slashes, the README's set); Envoy routes /admin
(case-insensitively, like a case-insensitive upstream) to a separate recording cluster. Without the admin scope,
nothing may reach that cluster, and nothing that reaches the other upstream may read as /admin there.
"""

from __future__ import annotations

import json

import pytest

from harness.assertions import assert_missing_token
from harness.keys import claims, jwks, make_token
from harness.plugin import AUDIENCE, issuer_of
from harness.recording import HCM_SETUPS, RecordingUpstream, split_routes, start_envoy, upstream_readings, with_hcm

ISSUER = issuer_of("prod")
RULES = [
    {"prefix": "/public/", "allow_anonymous": True},
    {"prefix": "/admin", "scopes": ["write:admin"]},
]
ATTACKS = [
    "/admin", "/ADMIN", "/Admin/users", "/admin/../admin", "/public/../admin", "/public/..%2fadmin",
    "/public/..%2Fadmin", "/public/%2e%2e/admin", "/public/%2E%2E%2Fadmin", "/public/..%5cadmin", "/public/..\\admin",
    "/public/..;/admin", "/public;x=1/../admin", "/public/..;x=1/admin", "/public/%252e%252e%252fadmin",
    "/public/%25252e%25252e/admin", "//admin", "/./admin", "/public/./../admin", "/public/x/../../admin",
    "/public/..%252fadmin", "/public/%2e%2e/ADMIN", "/public/..%3b/admin", "/%61dmin", "/%2561dmin", "/.%2e/admin",
    "/public//../admin", "/public/.%2e/admin", "/public/%2e%2e;/Admin/x", "/public/..%5C..%5Cadmin",
    "/public/..?x=/../admin", "/public/%2e%2e",
]
LEGIT_PUBLIC = ["/public/x", "/public/a%20b", "/public/report.pdf", "/public/x/./y", "/public/%7euser"]


def plugin_config(key, **extra) -> dict:
    provider = {"name": "prod", "issuer": ISSUER, "audiences": [AUDIENCE], "jwks": json.dumps(jwks(key))}
    return {"providers": [provider], "rules": RULES, **extra}


@pytest.fixture(scope="module")
def recorders():
    public, protected = RecordingUpstream("public"), RecordingUpstream("protected")
    yield public, protected
    public.close()
    protected.close()


@pytest.fixture(scope="module", params=list(HCM_SETUPS))
def setup(request, recorders, keys, wasm_path, tmp_path_factory):
    public, protected = recorders
    envoy = start_envoy(tmp_path_factory.mktemp(f"paths-{request.param}"), plugin_config(keys.rs256), wasm_path,
                        public, clusters={"protected": protected.port},
                        customize=with_hcm(request.param, split_routes("/admin")))
    yield envoy, public, protected
    envoy.stop()


def token(keys, scope: str) -> str:
    return make_token(keys.rs256, claims(ISSUER, AUDIENCE, scope=scope))


def reaches_admin(path: str) -> bool:
    return any(r.lower().startswith("/admin") for r in upstream_readings(path))


@pytest.mark.parametrize("auth", ["none", "weak"])
def test_no_path_reaches_admin_without_its_scope(setup, keys, auth):
    envoy, public, protected = setup
    headers = {} if auth == "none" else {"authorization": f"Bearer {token(keys, 'openid read')}"}
    public.clear()
    protected.clear()
    answers = {}
    for path in ATTACKS:
        answers[path] = envoy.get(path, headers).status
    assert protected.received() == [], f"protected cluster reached: {protected.received()} ({answers})"
    for seen in public.received():
        assert not reaches_admin(seen.path), f"upstream received {seen.path!r}, which it may serve as /admin"
    assert any(status in (401, 403) for status in answers.values())


def test_legitimate_paths_still_work(setup, keys):
    envoy, public, protected = setup
    for path in LEGIT_PUBLIC:
        resp = envoy.get(path)
        assert resp.status == 200, (path, resp.status, resp.body)
        assert resp.header("x-upstream") == "public"
    admin = token(keys, "openid write:admin")
    resp = envoy.get("/admin/users", {"authorization": f"Bearer {admin}"})
    assert resp.status == 200 and resp.header("x-upstream") == "protected"
    # The admin scope is required whatever reading selects /admin.
    for path in ["/ADMIN/users", "/public/..%2fadmin", "/public/..;/admin"]:
        resp = envoy.get(path, {"authorization": f"Bearer {admin}"})
        assert resp.status in (200, 307, 400, 404), (path, resp.status)


def test_without_a_token_protected_paths_get_401(setup):
    envoy, _, _ = setup
    assert_missing_token(envoy.get("/public/..;/admin"))
    assert_missing_token(envoy.get("/ADMIN"))


def test_reject_mode_answers_400_and_counts(recorders, keys, wasm_path, tmp_path_factory):
    public, protected = recorders
    envoy = start_envoy(tmp_path_factory.mktemp("paths-reject"),
                        plugin_config(keys.rs256, ambiguous_paths="reject"), wasm_path, public,
                        clusters={"protected": protected.port}, customize=split_routes("/admin"))
    try:
        resp = envoy.get("/public/..%2fadmin")
        assert resp.status == 400, resp.body
        assert resp.json()["error"] == "invalid_request"
        assert envoy.metric("jwt_guard.denied.ambiguous_request") == 1
        assert envoy.get("/public/x").status == 200
        long_path = "/public/" + "%41" * 5000
        assert envoy.get(long_path).status == 400
    finally:
        envoy.stop()
