"""Rule "mode": "report": the request always continues, the verdict it would have had is counted under
jwt_guard.report.* and logged at info without the token; unverified claims are never forwarded and spoofed claim
headers are still stripped."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.envoy import assert_refuses, plugin_log_lines
from harness.keys import claims, make_token, rsa_key
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

RULES = [
    {"prefix": "/trial", "mode": "report", "scopes": ["read:trial"]},
    {"prefix": "/claims", "mode": "report", "claims": [{"claim": "tier", "equals": "gold"}]},
    {"prefix": "/enforced"},
]


@pytest.fixture(scope="module")
def deployment(module_launch, jwks_server):
    key, stranger = rsa_key("report-1"), rsa_key("report-x")
    jwks_server.publish(key)
    envoy = module_launch(plugin(provider("rep"), rules=RULES, forward_claims={"sub": "x-jwt-sub"}),
                          clusters={"jwks": jwks_server.port})

    def token(signer=key, **extra):
        return make_token(signer, claims(issuer_of("rep"), AUDIENCE, **extra))

    return SimpleNamespace(envoy=envoy, token=token, stranger=stranger)


def metric(d, name):
    return d.envoy.metric(f"jwt_guard.{name}")


def test_what_would_be_refused_continues_and_is_counted_apart(deployment):
    d = deployment
    before = {n: metric(d, n) for n in ("report.missing_token", "report.expired", "report.insufficient_scope",
                                        "report.claim_rule", "report.allowed", "denied.missing_token",
                                        "denied.expired")}
    expired = d.token(exp=1_000_000_000, iat=999_999_000)
    assert d.envoy.get("/trial").status == 200
    resp = d.envoy.get("/trial", token=expired)
    assert resp.status == 200
    assert d.envoy.get("/trial", token=d.token(scope="other")).status == 200
    assert d.envoy.get("/claims", token=d.token(tier="silver")).status == 200
    assert d.envoy.get("/trial", token=d.token(scope="read:trial")).status == 200
    after = {n: metric(d, n) for n in before}
    assert after["report.missing_token"] == before["report.missing_token"] + 1
    assert after["report.expired"] == before["report.expired"] + 1
    assert after["report.insufficient_scope"] == before["report.insufficient_scope"] + 1
    assert after["report.claim_rule"] == before["report.claim_rule"] + 1
    assert after["report.allowed"] == before["report.allowed"] + 1
    assert after["denied.missing_token"] == before["denied.missing_token"]
    assert after["denied.expired"] == before["denied.expired"]
    lines = plugin_log_lines(d.envoy.log())
    assert any("report" in line and "token expired" in line and "info" in line for line in lines), lines[-10:]
    assert not any(expired in line or expired.rsplit(".", 1)[1] in line for line in lines)


def test_claims_of_an_unverified_token_are_never_forwarded(deployment):
    d = deployment
    forged = d.token(signer=d.stranger, sub="forged-user")
    resp = d.envoy.get("/trial", [("x-jwt-sub", "spoofed")], token=forged)
    assert resp.status == 200
    assert "x-jwt-sub" not in resp.upstream_headers()
    valid = d.envoy.get("/trial", [("x-jwt-sub", "spoofed")], token=d.token(sub="real-user", scope="read:trial"))
    assert valid.upstream_headers()["x-jwt-sub"] == ["real-user"]


def test_spoofed_claim_headers_are_stripped_without_a_token(deployment):
    resp = deployment.envoy.get("/trial", [("x-jwt-sub", "spoofed"), ("X_JWT_SUB", "spoofed")])
    assert resp.status == 200
    seen = resp.upstream_headers()
    assert "x-jwt-sub" not in seen


def test_enforce_is_the_default(deployment):
    assert deployment.envoy.get("/enforced").status == 401


def test_mode_must_be_enforce_or_report(launch):
    config = plugin(provider("p"), rules=[{"prefix": "/", "mode": "audit"}])
    assert_refuses(launch.prepare(config), r"rules\[0\]\.mode")
