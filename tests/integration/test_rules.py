"""Route rules of the shared deployment: anonymous prefixes, method-scoped rules and required scopes."""

from __future__ import annotations

import time

import pytest

from harness.assertions import assert_insufficient_scope, assert_invalid_token, assert_missing_token

REPORT_SCOPES = "read:reports export:reports"


def test_anonymous_route_needs_no_token(guard):
    resp = guard.get("/healthz")
    assert resp.status == 200, resp.body


def test_anonymous_route_still_rejects_an_invalid_token(guard):
    token = guard.token(exp=int(time.time()) - 3600)
    assert_invalid_token(guard.get("/healthz", token=token), token, r"expired")


def test_anonymous_route_accepts_a_valid_token(guard):
    assert guard.get("/healthz/deep", token=guard.token()).status == 200


def test_unmatched_route_requires_a_token(guard):
    assert_missing_token(guard.get("/anything-else"))


@pytest.mark.parametrize(
    "path",
    ["/healthz/../admin", "/healthz/%2e%2e/admin", "/healthz/..%2fadmin", "/healthz/..%5Cadmin",
     "/healthz/%%32%65%%32%65/admin", "//healthz/./../admin"],
)
def test_path_tricks_do_not_borrow_an_anonymous_rule(guard, path):
    # Envoy's default here keeps escaped slashes: the filter must not match /healthz for a
    # path a backend may decode to /admin.
    assert_missing_token(guard.get(path))


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_method_rule_requires_its_scope(guard, method):
    token = guard.token(scope="openid profile")
    before = guard.metric("denied.insufficient_scope")
    assert_insufficient_scope(guard.get("/admin/users", method=method, token=token), token, "write:admin")
    assert guard.metric("denied.insufficient_scope") == before + 1
    assert guard.get("/admin/users", method=method, token=guard.token(scope="openid write:admin")).status == 200


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_method_rule_does_not_apply_to_other_methods(guard, method):
    assert guard.get("/admin/users", method=method, token=guard.token(scope="openid")).status == 200
    assert_missing_token(guard.get("/admin/users", method=method))


def test_method_rule_without_token_is_401_not_403(guard):
    assert_missing_token(guard.get("/admin/users", method="POST"))


@pytest.mark.parametrize(
    "grant",
    [
        {"scope": "read:reports export:reports"},
        {"scope": "openid export:reports profile read:reports"},
        {"permissions": ["read:reports", "export:reports"]},
        {"scope": "openid", "permissions": ["export:reports", "read:reports", "other"]},
    ],
    ids=["scope-exact", "scope-superset", "permissions", "permissions-with-unrelated-scope"],
)
def test_all_required_scopes_present(guard, grant):
    assert guard.get("/reports/2024", token=guard.token(**grant)).status == 200


@pytest.mark.parametrize(
    "grant",
    [
        {},
        {"scope": "read:reports"},
        {"scope": "read:reports-extra export:reports"},
        {"scope": "read:reports,export:reports"},
        {"permissions": ["read:reports"]},
    ],
    ids=["none", "one-of-two", "no-prefix-match", "comma-separated", "permissions-one-of-two"],
)
def test_missing_scope_is_403(guard, grant):
    token = guard.token(**grant)
    assert_insufficient_scope(guard.get("/reports/2024", token=token), token, REPORT_SCOPES)


def test_first_matching_rule_wins(guard):
    # "/reports" is listed before the anonymous "/reports/public", so it governs that path.
    assert_missing_token(guard.get("/reports/public"))
    token = guard.token(scope="openid")
    assert_insufficient_scope(guard.get("/reports/public", token=token), token, REPORT_SCOPES)


def test_the_same_token_is_judged_per_route(guard):
    token = guard.token(scope="openid")
    assert guard.get("/api", token=token).status == 200
    assert_insufficient_scope(guard.get("/reports/2024", token=token), token, REPORT_SCOPES)
    assert guard.get("/api", token=token).status == 200
