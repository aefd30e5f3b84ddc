"""Rule "claims": equals, in, contains, exists on top-level (namespaced) and nested claims; a 403 names the claim,
never its value."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.assertions import assert_json_error, assert_no_leak, challenge
from harness.envoy import assert_refuses
from harness.keys import claims, make_token, rsa_key
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

ROLES = "https://example.test/roles"
RULES = [
    {"prefix": "/admin", "claims": [{"claim": ROLES, "contains": "admin"}, {"claim": "email_verified", "equals": True}]},
    {"prefix": "/gold", "claims": [{"path": ["org", "tier"], "in": ["gold", "platinum"]}]},
    {"prefix": "/staff", "claims": [{"claim": "scope", "contains": "staff"}, {"claim": "ext", "exists": False}]},
    {"prefix": "/reports", "scopes": ["read:reports"], "claims": [{"claim": "org_id", "exists": True}]},
]


@pytest.fixture(scope="module")
def deployment(module_launch, jwks_server):
    key = rsa_key("claims-1")
    jwks_server.publish(key)
    envoy = module_launch(plugin(provider("cl"), rules=RULES), clusters={"jwks": jwks_server.port})

    def token(**extra):
        return make_token(key, claims(issuer_of("cl"), AUDIENCE, **extra))

    return SimpleNamespace(envoy=envoy, token=token)


def refused_for(resp, claim: str, secret: str) -> None:
    """403 insufficient_scope whose description names `claim` and does not contain `secret` (its value)."""
    body = assert_json_error(resp, 403, "insufficient_scope")
    scheme, params = challenge(resp)
    assert scheme == "Bearer" and params["error"] == "insufficient_scope"
    for text in (params["error_description"], body["error_description"]):
        assert claim in text, text
        assert secret not in text, text


def test_claims_that_hold_let_the_request_through(deployment):
    d = deployment
    assert d.envoy.get("/admin", token=d.token(**{ROLES: ["ops", "admin"]}, email_verified=True)).status == 200
    assert d.envoy.get("/gold/x", token=d.token(org={"tier": "platinum"})).status == 200
    assert d.envoy.get("/staff", token=d.token(scope="read staff")).status == 200
    assert d.envoy.get("/reports", token=d.token(scope="read:reports", org_id="o1")).status == 200


def test_an_unmet_claim_is_403_naming_the_claim_not_its_value(deployment):
    d = deployment
    token = d.token(**{ROLES: ["ops-secret-role"]}, email_verified=True)
    resp = d.envoy.get("/admin", token=token)
    refused_for(resp, ROLES, "ops-secret-role")
    assert_no_leak(resp, token)
    refused_for(d.envoy.get("/admin", token=d.token(**{ROLES: ["admin"]}, email_verified="yes")), "email_verified",
                "yes")
    refused_for(d.envoy.get("/gold", token=d.token(org={"tier": "silver-tier"})), "org.tier", "silver-tier")
    refused_for(d.envoy.get("/gold", token=d.token()), "org.tier", "gold")
    refused_for(d.envoy.get("/staff", token=d.token(scope="staffing")), "scope", "staffing")
    refused_for(d.envoy.get("/staff", token=d.token(scope="staff", ext="contractor-x")), "ext", "contractor-x")
    assert d.envoy.metric("jwt_guard.denied.claim_rule") >= 6


def test_scopes_are_checked_with_claims(deployment):
    d = deployment
    resp = d.envoy.get("/reports", token=d.token(scope="read:other", org_id="o1"))
    assert_json_error(resp, 403, "insufficient_scope")
    assert challenge(resp)[1]["scope"] == "read:reports"
    refused_for(d.envoy.get("/reports", token=d.token(scope="read:reports")), "org_id", "o1")


@pytest.mark.parametrize(
    "entry, field",
    [
        ({"claim": "a"}, r"rules\[0\]\.claims\[0\]"),
        ({"claim": "a", "path": ["a"], "equals": 1}, r"rules\[0\]\.claims\[0\]"),
        ({"claim": "a", "equals": 1, "exists": True}, r"rules\[0\]\.claims\[0\]"),
        ({"claim": "a", "in": []}, r"rules\[0\]\.claims\[0\]\.in"),
        ({"claim": "a", "regex": "^x"}, r"regex"),
    ],
)
def test_configuration_errors_name_the_field(launch, entry, field):
    config = plugin(provider("p"), rules=[{"prefix": "/", "claims": [entry]}])
    assert_refuses(launch.prepare(config), field)
