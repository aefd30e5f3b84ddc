"""The filter reads only :method, :path and Authorization (not the whole header map). What it reads must still mean
what the whole map meant: repeated Authorization headers (Envoy joins them with a comma before any filter runs),
non-UTF-8 bytes, header-name case, and requests carrying kilobytes of cookies and other headers."""

from __future__ import annotations

import pytest

from harness.guard import ISSUER, USERINFO
from harness.hostile import raw_request
from harness.http_client import request
from harness.keys import claims, make_token
from harness.plugin import AUDIENCE


def _token(guard, **overrides) -> str:
    return make_token(guard.key, claims(ISSUER, [AUDIENCE, USERINFO], **overrides))


@pytest.mark.parametrize("path", ["/api/items", "/healthz"])
def test_repeated_authorization_with_a_bearer_credential_is_an_invalid_request(guard, path):
    # Envoy joins the lines into one value ("<first>,<second>"); the filter reads only that value. A bearer
    # credential anywhere in it makes the request invalid, whichever line carried it: an anonymous route must not
    # forward a bearer token it did not verify.
    valid = b"Bearer " + _token(guard).encode()
    for pair in [(valid, valid), (valid, b"Basic anVuaw=="), (b"Basic anVuaw==", valid), (valid, b"Bearer junk"),
                 (b"Bearer junk", valid)]:
        resp = raw_request(guard.envoy.port, pair, path=path)
        assert resp.status == 401, f"{pair!r} on {path}: {resp.status}"
        assert resp.json()["error"] == "invalid_request", resp.body


@pytest.mark.parametrize("path", ["/api/items", "/healthz"])
def test_non_utf8_bytes_in_the_token_are_refused_not_ignored(guard, path):
    token = _token(guard).encode()
    for value in [b"Bearer " + token[:20] + b"\xff" + token[20:], b"Bearer \xc3\x28" + token, b"Bearer " + token + b"\x80"]:
        resp = raw_request(guard.envoy.port, (value,), path=path)
        assert resp.status in (400, 401), f"{value[:30]!r} on {path}: {resp.status}"


def test_header_name_case_does_not_matter(guard):
    token = _token(guard)
    resp = request(guard.envoy.port, "/api/items", [("AUTHORIZATION", f"Bearer {token}")])
    assert resp.status == 200, resp.body


def test_a_browser_like_request_is_judged_like_a_plain_one(guard):
    token = _token(guard, sub="auth0|browser")
    cookies = "; ".join(f"c{i}={'v' * 40}" for i in range(48))
    assert len(cookies) >= 2048
    headers = [
        ("accept", "application/json, text/plain, */*"),
        ("accept-language", "en-GB,en;q=0.9,de;q=0.8"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"),
        ("origin", "http://127.0.0.1:5173"),
        ("referer", "http://127.0.0.1:5173/dashboard"),
        ("sec-fetch-site", "same-site"), ("sec-fetch-mode", "cors"), ("sec-fetch-dest", "empty"),
        ("cookie", cookies),
        ("X-JWT-Sub", "spoofed"),  # an inbound copy of a header jwt-guard sets, in another case
        ("authorization", f"Bearer {token}"),
    ]  # fmt: skip
    resp = request(guard.envoy.port, "/api/items", headers)
    assert resp.status == 200, resp.body
    seen = resp.upstream_headers()
    assert seen["x-jwt-sub"] == ["auth0|browser"]
    assert seen["cookie"] == [cookies]
    denied = request(guard.envoy.port, "/api/items", [h for h in headers if h[0] != "authorization"])
    assert denied.status == 401
