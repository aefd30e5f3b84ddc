"""Claims forwarded to the upstream as headers, and inbound copies of those headers stripped."""

from __future__ import annotations

import json

import pytest

from harness.guard import FORWARD_CLAIMS, ORG_CLAIM, PAYLOAD_HEADER
from harness.keys import b64url_decode

SPOOFED = [(name, "spoofed") for name in [*FORWARD_CLAIMS.values(), PAYLOAD_HEADER]]
SPOOFED_MIXED_CASE = [(name.upper(), "spoofed") for name in [*FORWARD_CLAIMS.values(), PAYLOAD_HEADER]]


def test_claims_are_forwarded(guard):
    token = guard.token(
        sub="auth0|abc",
        scope="openid read:things",
        permissions=["read:things", "write:things"],
        email_verified=True,
        **{ORG_CLAIM: {"id": "org_1", "tier": "gold"}},
    )
    seen = guard.get("/api", token=token).upstream_headers()
    assert seen["x-jwt-sub"] == ["auth0|abc"]
    assert seen["x-jwt-scope"] == ["openid read:things"]
    assert seen["x-jwt-email-verified"] == ["true"]
    assert seen["x-jwt-exp"] == [str(json.loads(b64url_decode(token.split(".")[1]))["exp"])]
    for header, value in (("x-jwt-permissions", ["read:things", "write:things"]),
                          ("x-jwt-org", {"id": "org_1", "tier": "gold"})):
        assert len(seen[header]) == 1 and json.loads(seen[header][0]) == value
        assert " " not in seen[header][0], f"{header} is not compact JSON: {seen[header][0]!r}"


def test_payload_header_is_the_payload_segment(guard):
    token = guard.token(sub="auth0|payload")
    seen = guard.get("/api", token=token).upstream_headers()
    assert seen[PAYLOAD_HEADER] == [token.split(".")[1]]


def test_absent_claims_set_no_header(guard):
    seen = guard.get("/api", token=guard.token()).upstream_headers()
    for claim in ("permissions", ORG_CLAIM, "email_verified", "scope"):
        assert FORWARD_CLAIMS[claim] not in seen


@pytest.mark.parametrize("spoof", [SPOOFED, SPOOFED_MIXED_CASE], ids=["lower-case", "upper-case"])
def test_spoofed_headers_are_replaced_on_protected_routes(guard, spoof):
    token = guard.token(sub="auth0|real")
    resp = guard.get("/api", spoof, token=token)
    assert resp.status == 200, resp.body
    seen = resp.upstream_headers()
    assert seen["x-jwt-sub"] == ["auth0|real"]
    assert seen[PAYLOAD_HEADER] == [token.split(".")[1]]
    for header in ("x-jwt-scope", "x-jwt-permissions", "x-jwt-org", "x-jwt-email-verified"):
        assert header not in seen, f"inbound {header} reached the upstream"


@pytest.mark.parametrize("spoof", [SPOOFED, SPOOFED_MIXED_CASE], ids=["lower-case", "upper-case"])
def test_spoofed_headers_are_stripped_on_anonymous_routes(guard, spoof):
    resp = guard.get("/healthz", spoof)
    assert resp.status == 200, resp.body
    seen = resp.upstream_headers()
    leaked = [name for name, _ in spoof if name.lower() in seen]
    assert not leaked, f"inbound copies reached the upstream: {leaked}"

