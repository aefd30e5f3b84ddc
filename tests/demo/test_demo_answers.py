"""The demo as `make demo` runs it (harness.demo, on free ports) answers what it promises: tokens from the dev IdP
pass, missing, forged and foreign ones do not, write:admin guards /api/admin (also behind // and /./), a key rotation
is picked up, spoofed claim headers never reach the upstream, and the SPA's origin gets its CORS grant where others
get none. Stopping the demo leaves no process listening.

The tests of this module run in file order against one demo: the key rotation comes before the edited-payload case
(a signature failure under a known kid asks for the same cooldown-limited JWKS refetch a new kid does).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from harness.demo import (AUDIENCE, CLIENT_ID, CLIENT_SECRET, EXPLAIN, OTHER_AUDIENCE, ROOT, Demo, Ports, instructions,
                          port_busy)
from harness.http_client import Response, request
from harness.wasm import ensure_wasm

OTHER_ORIGIN = "http://elsewhere.example"
SPOOFED = "spoofed-by-client"


@pytest.fixture(scope="module")
def demo(free_ports, tmp_path_factory):
    """The demo on free ports, its key set loaded by the filter; stopped at the end of the module."""
    build = subprocess.run(["cargo", "build", "--release", "-p", "jwt-guard-devtools"], cwd=ROOT,
                           capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-4000:]
    demo = Demo(Ports(*free_ports(5)), tmp_path_factory.mktemp("demo"), wasm=ensure_wasm()).start()
    try:
        # The filter also fetches on demand; waiting only keeps start-up out of the first case.
        deadline = time.monotonic() + 10
        while not demo.envoy.stat_sum(r"jwks_fetch_success") and time.monotonic() < deadline:
            time.sleep(0.1)
        yield demo
    finally:
        demo.stop()


def token(demo: Demo, audience: str = AUDIENCE, scope: str = "read:data") -> str:
    """An access token from the dev IdP (client-credentials grant, as with Auth0)."""
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                   "client_secret": CLIENT_SECRET, "audience": audience, "scope": scope})
    with urllib.request.urlopen(f"{demo.idp}/oauth/token", data=form.encode(), timeout=10) as answer:
        return json.loads(answer.read())["access_token"]


def call(demo: Demo, path: str, bearer: str | None = None, *, method: str = "GET", **headers: str) -> Response:
    """A request through the demo's Envoy; the path is sent as is (no normalisation on this side)."""
    pairs = [(name.replace("_", "-"), value) for name, value in headers.items()]
    if bearer is not None:
        pairs.append(("authorization", f"Bearer {bearer}"))
    return request(demo.ports.envoy, path, pairs, method)


def upstream_saw(resp: Response, header: str) -> str | None:
    """A header the echo upstream received (its body is the request it got)."""
    return resp.json().get("headers", {}).get(header)


def edited(jwt: str) -> str:
    """The token with its payload's scope raised to write:admin, the original signature kept."""
    head, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "read:data write:admin"
    raised = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{head}.{raised}.{signature}"


def challenges(resp: Response) -> str:
    """Every WWW-Authenticate value, joined (Bearer's, and DPoP's where it is offered)."""
    return " ".join(resp.header_values("www-authenticate"))


def kid(jwt: str) -> str:
    """The kid of a token's header."""
    head = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]


def test_the_anonymous_route_needs_no_token_and_strips_claim_headers(demo):
    resp = call(demo, "/public", x_jwt_sub=SPOOFED)
    assert resp.status == 200, resp.body
    assert SPOOFED.encode() not in resp.body


@pytest.mark.parametrize("bearer", [None, "not-a-jwt"], ids=["no token", "not a JWT"])
def test_the_api_refuses_a_missing_or_malformed_token(demo, bearer):
    resp = call(demo, "/api/data", bearer)
    assert resp.status == 401, resp.body
    assert challenges(resp).startswith("Bearer")


def test_a_token_with_read_data_passes_and_the_upstream_sees_its_claims(demo):
    resp = call(demo, "/api/data", token(demo), x_jwt_scope=SPOOFED)
    assert resp.status == 200, resp.body
    assert upstream_saw(resp, "x-jwt-sub")
    assert upstream_saw(resp, "x-jwt-scope") == "read:data"
    assert SPOOFED.encode() not in resp.body


def test_a_key_rotation_is_picked_up_and_the_previous_key_still_passes(demo):
    before = token(demo)
    with urllib.request.urlopen(urllib.request.Request(f"{demo.idp}/rotate", method="POST"), timeout=10) as answer:
        rotated = json.loads(answer.read())["kid"]
    after = token(demo)
    assert kid(after) == rotated != kid(before)
    assert call(demo, "/api/data", after).status == 200
    assert call(demo, "/api/data", before).status == 200


def test_an_edited_payload_is_refused(demo):
    resp = call(demo, "/api/data", edited(token(demo)))
    assert resp.status == 401, resp.body
    assert 'error="invalid_token"' in challenges(resp)


def test_a_token_for_another_audience_is_refused(demo):
    assert call(demo, "/api/data", token(demo, OTHER_AUDIENCE)).status == 401


@pytest.mark.parametrize("path", ["/api/admin/users", "//api/./admin/users"])
def test_admin_needs_write_admin_also_behind_unnormalised_paths(demo, path):
    resp = call(demo, path, token(demo))
    assert resp.status == 403, resp.body
    assert 'error="insufficient_scope"' in challenges(resp)


def test_admin_passes_with_write_admin(demo):
    assert call(demo, "/api/admin/users", token(demo, scope="read:data write:admin")).status == 200


def test_dot_segments_do_not_reach_the_api_through_the_anonymous_route(demo):
    assert call(demo, "/public/../api/data").status == 401


def test_the_spa_preflight_is_answered_by_envoy(demo):
    resp = call(demo, "/api/data", method="OPTIONS", origin=demo.spa, access_control_request_method="GET",
                access_control_request_headers="authorization")
    assert resp.status == 200
    assert resp.header("access-control-allow-origin") == demo.spa


def test_another_origin_gets_no_cors_grant(demo):
    resp = call(demo, "/api/data", method="OPTIONS", origin=OTHER_ORIGIN, access_control_request_method="GET")
    assert resp.status == 401
    assert resp.header("access-control-allow-origin") is None


def test_jwt_guard_answers_carry_the_spa_grant(demo):
    resp = call(demo, "/api/data", method="OPTIONS", origin=demo.spa)
    assert resp.status == 401  # not a preflight: jwt-guard judges it
    assert resp.header("access-control-allow-origin") == demo.spa
    resp = call(demo, "/api/admin/users", token(demo), origin=demo.spa)
    assert resp.status == 403
    assert resp.header("access-control-allow-origin") == demo.spa
    assert "www-authenticate" in (resp.header("access-control-expose-headers") or "")


def test_the_printed_explain_command_names_the_reason(demo):
    """The instructions' `explain` line, run as printed (the CLI built here, the token on stdin), says why the
    admin route refuses a read:data token, without printing it."""
    build = subprocess.run(["cargo", "build", "--locked", "-q", "-p", "jwt-guard-cli"], cwd=ROOT,
                           capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-4000:]
    line = next(line for line in instructions(demo).splitlines() if EXPLAIN in line)
    line = line.replace(EXPLAIN, str(ROOT / "target" / "debug" / "jwt-guard") + " explain")
    reader = token(demo)
    done = subprocess.run(["bash", "-c", line], cwd=ROOT, env={"TOKEN": reader, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "status: 403 (refused)" in done.stdout and "reason: insufficient_scope" in done.stdout, done.stdout
    assert reader not in done.stdout + done.stderr


# Last: it stops the module's demo, which every test above uses.
def test_stopping_the_demo_closes_every_port(demo):
    demo.stop()
    assert demo.stopped() is not None
    assert [port for port in demo.ports.all().values() if port_busy(port)] == []
