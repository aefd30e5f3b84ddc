"""Assertions on the filter's answers (RFC 6750 challenges, JSON error bodies, no token leakage)."""

from __future__ import annotations

import re

from .http_client import Response

_PARAM = re.compile(r'([A-Za-z_]+)="((?:[^"\\]|\\.)*)"')


_DPOP_OFFER = re.compile(r'DPoP algs="[A-Za-z0-9 ]+"(, resource_metadata="[^"]+")?')


def bearer_challenges(resp: Response) -> list[str]:
    """The WWW-Authenticate values but the bare `DPoP algs="…"` challenge jwt-guard adds wherever a provider
    accepts DPoP (the default, RFC 9449 §7.1), which is checked to be exactly that."""
    values = resp.header_values("www-authenticate")
    for value in values:
        if value.startswith("DPoP "):
            assert _DPOP_OFFER.fullmatch(value), f"unexpected DPoP challenge {value!r}"
    return [v for v in values if not v.startswith("DPoP ")]


def challenge(resp: Response) -> tuple[str, dict[str, str]]:
    """The WWW-Authenticate header split into its scheme and its auth-params."""
    value = resp.header("www-authenticate")
    assert value is not None, f"no WWW-Authenticate in {resp.status} answer: {resp.headers}"
    scheme, _, rest = value.partition(" ")
    return scheme, dict(_PARAM.findall(rest))


def assert_no_leak(resp: Response, token: str) -> None:
    """Neither the token nor its signature segment appears in the answer's headers or body."""
    signature = token.rsplit(".", 1)[-1]
    for secret in {token, signature} - {""}:
        assert secret not in resp.body.decode(errors="replace"), "token echoed in the body"
        assert all(secret not in v for _, v in resp.headers), "token echoed in a header"


def assert_json_error(resp: Response, status: int, error: str) -> dict:
    """Status, application/json content type and body error code; returns the body."""
    assert resp.status == status, f"want {status}, got {resp.status}: {resp.body[:300]!r}"
    assert (resp.header("content-type") or "").startswith("application/json"), resp.headers
    body = resp.json()
    assert body.get("error") == error, body
    assert isinstance(body.get("error_description"), str) and body["error_description"], body
    return body


def assert_invalid_token(resp: Response, token: str, pattern: str) -> str:
    """401 invalid_token whose error_description (header and body) matches regex `pattern` (case-insensitive);
    returns the description."""
    body = assert_json_error(resp, 401, "invalid_token")
    scheme, params = challenge(resp)
    assert scheme == "Bearer" and params.get("error") == "invalid_token", resp.header("www-authenticate")
    description = params.get("error_description", "")
    assert re.search(pattern, description, re.IGNORECASE), f"error_description {description!r} !~ /{pattern}/"
    assert re.search(pattern, body["error_description"], re.IGNORECASE), body
    assert_no_leak(resp, token)
    return description


def assert_missing_token(resp: Response) -> None:
    """401 with the bare `Bearer` challenge and the contract's fixed body."""
    assert resp.status == 401, resp.body
    assert bearer_challenges(resp) == ["Bearer"]
    assert (resp.header("content-type") or "").startswith("application/json")
    assert resp.json() == {"error": "unauthorized", "error_description": "bearer token required"}


def assert_insufficient_scope(resp: Response, token: str, required: str) -> None:
    """403 insufficient_scope whose challenge carries scope="<required>"."""
    assert_json_error(resp, 403, "insufficient_scope")
    scheme, params = challenge(resp)
    assert scheme == "Bearer" and params.get("error") == "insufficient_scope", resp.header("www-authenticate")
    assert params.get("scope") == required, resp.header("www-authenticate")
    assert_no_leak(resp, token)
