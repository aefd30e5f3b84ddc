"""`jwt-guard explain` agrees with the filter in real Envoy: the same requests (every attack-corpus case and a set of
rule, method and path scenarios, each on several routes) go to an Envoy running jwt-guard and through `explain` with
the same configuration and JWKS, and the status and refusal reason must match case for case. Envoy's reason is read
from its access log (`%RESPONSE_CODE_DETAILS%`, e.g. `jwt_guard_denied{expired}`); explain's from its --json output,
which must never hold the credentials it was given."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.corpus import CASES, build_one
from harness.envoy import access_log, wait_lines
from harness.hostile import HCM, corpus_forge
from harness.jwks_server import JwksServer
from harness.keys import claims, jwks, make_token
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "debug" / "jwt-guard"
SKEW = 60
CONFIG = plugin(
    provider("prod", refetch_cooldown_s=1),
    clock_skew_s=SKEW,
    max_token_bytes=8192,
    rules=[
        {"prefix": "/public", "allow_anonymous": True},
        {"prefix": "/admin", "methods": ["POST", "DELETE"], "scopes": ["write:admin"]},
        {"prefix": "/report", "mode": "report", "scopes": ["report:read"]},
    ],
    forward_claims={"sub": "x-jwt-sub"},
)
# Every corpus case is sent on each of these (method, path).
CORPUS_ROUTES = [("GET", "/api/items"), ("GET", "/public/page"), ("POST", "/admin/users")]
DETAILS = re.compile(r"jwt_guard_denied\{(\w+)\}")


@dataclass
class Request:
    """One request, as bytes for Envoy and as arguments for explain."""

    id: str
    method: str
    path: str
    authorization: tuple[bytes, ...]  # Authorization header lines, verbatim
    token: str | None  # when the request is one bearer token (then sent to explain on stdin)
    headers: tuple[tuple[str, str], ...] = ()  # other headers
    secrets: tuple[str, ...] = ()


def _scenarios(keys) -> list[Request]:
    """Rule, method, path and claim scenarios beyond the corpus (which is about hostile tokens)."""

    def token(**extra) -> str:
        return make_token(keys.rs256, claims(issuer_of("prod"), AUDIENCE, **extra))

    admin, plain = token(scope="write:admin", sub="alice"), token(scope="read", sub="bob")
    other = make_token(keys.rs256, claims(issuer_of("other"), AUDIENCE))
    bearer = lambda t: (f"Bearer {t}".encode(),)  # noqa: E731
    out = []
    for method, path, tok, headers in [
        ("GET", "/api/items", None, ()),
        ("GET", "/api/items", plain, ()),
        ("GET", "/api/items", token(ttl=-3600), ()),
        ("GET", "/api/items", token(aud="https://other.example"), ()),
        ("GET", "/api/items", other, ()),
        ("GET", "/public/x", None, ()),
        ("GET", "/admin/users", plain, ()),
        ("POST", "/admin/users", plain, ()),
        ("POST", "/admin/users", admin, ()),
        ("DELETE", "/admin/users", None, ()),
        ("HEAD", "/admin/users", plain, ()),
        ("GET", "/admin/users", plain, (("x-http-method-override", "DELETE"),)),
        ("GET", "/admin/users", plain, (("x-http-method-override", "GET, POST"),)),
        ("POST", "/ADMIN/users", plain, ()),
        ("POST", "/%61dmin/users", plain, ()),
        ("POST", "/public/../admin/users", plain, ()),
        ("POST", "/public/%2e%2e/admin/users", plain, ()),
        ("POST", "/public%2f..%2fadmin/users", plain, ()),
        ("POST", "/public;x=/../admin", plain, ()),
        ("POST", "//admin/users", plain, ()),
        ("POST", "/public/page?next=/admin", plain, ()),
        ("GET", "/public/%252e%252e/admin", None, ()),
        ("GET", "/report/x", None, ()),
        ("GET", "/report/x", plain, ()),
        ("GET", "/report/x", token(ttl=-3600), ()),
        ("GET", "/api/items", plain, (("x-jwt-sub", "mallory"),)),
    ]:
        authorization = bearer(tok) if tok else ()
        out.append(Request(f"scenario-{len(out)}", method, path, authorization, tok, headers))
    out.append(Request("scenario-two-tokens", "GET", "/api/items", bearer(plain) + bearer(admin), None))
    out.append(Request("scenario-basic", "GET", "/public/x", (b"Basic dXNlcjpwYXNz",), None))
    out.append(Request("scenario-lower-bearer", "GET", "/api/items", (f"bearer {plain}".encode(),), None))
    return out


def _corpus(forge) -> list[Request]:
    out = []
    for case in CASES:
        attack = build_one(case, forge)
        for method, path in CORPUS_ROUTES:
            out.append(Request(f"{attack.id}@{method}{path}", method, path, attack.authorization, attack.token,
                               secrets=tuple(attack.secrets())))  # fmt: skip
    return out


def _send(port: int, req: Request) -> int:
    """One HTTP/1.1 request written byte for byte (Authorization lines verbatim); returns the status."""
    lines = [f"{req.method} {req.path} HTTP/1.1".encode(), b"Host: localhost", f"x-case: {req.id}".encode()]
    lines += [b"Authorization: " + value for value in req.authorization]
    lines += [f"{name}: {value}".encode() for name, value in req.headers]
    lines += [b"Connection: close", b"", b""]
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(b"\r\n".join(lines))
        resp = http.client.HTTPResponse(sock, method=req.method)
        resp.begin()
        resp.read()
        return resp.status


def _explain(req: Request, config: Path, keys_file: Path, now: int) -> tuple[dict, str]:
    """explain --json for `req`: the decoded report and everything it printed."""
    args = [str(BINARY), "explain", "--config", str(config), "--jwks", str(keys_file), "--now", str(now),
            "--method", req.method, "--path", req.path, "--host", "localhost", "--json"]  # fmt: skip
    stdin = b""
    if req.token is not None and len(req.authorization) == 1:
        args.append("-")
        stdin = req.token.encode()
    else:
        args += [arg for value in req.authorization for arg in ("--header", b"Authorization: " + value)]
    args += [arg for name, value in req.headers for arg in ("--header", f"{name}: {value}")]
    done = subprocess.run(args, input=stdin, capture_output=True, timeout=60)
    printed = (done.stdout + done.stderr).decode("utf-8", "replace")
    assert done.returncode in (0, 1), f"{req.id}: explain exited {done.returncode}: {printed[-2000:]}"
    report = json.loads(done.stdout)
    assert done.returncode == (0 if report["allowed"] else 1), f"{req.id}: exit code {done.returncode} vs {report}"
    return report, printed


@pytest.fixture(scope="module")
def binary():
    subprocess.run(["cargo", "build", "--locked", "-q", "-p", "jwt-guard-cli"], cwd=ROOT, check=True, timeout=1800)
    return BINARY


@pytest.fixture(scope="module")
def compared(binary, module_launch, keys, tmp_path_factory):
    """(request, Envoy's (status, reason), explain's (status, reason), what explain printed) for every request."""
    workdir = tmp_path_factory.mktemp("cli-agreement")
    server = JwksServer()
    server.publish(*keys.all())
    keys_file = workdir / "jwks.json"
    keys_file.write_text(json.dumps(jwks(*keys.all())))
    config_file = workdir / "plugin.json"
    config_file.write_text(json.dumps(CONFIG))
    log_path = workdir / "access.log"
    envoy = module_launch.prepare(CONFIG, clusters={"jwks": server.port})
    envoy_config = yaml.safe_load(envoy.config_path.read_text())
    access_log(log_path, "%REQ(X-CASE)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS%\n")(envoy_config)
    for listener in envoy_config["static_resources"]["listeners"]:
        for chain in listener["filter_chains"]:
            for net_filter in chain["filters"]:
                if net_filter["name"] == HCM:
                    net_filter["typed_config"]["max_request_headers_kb"] = 96
    envoy.config_path.write_text(yaml.safe_dump(envoy_config, sort_keys=False))
    envoy.start()
    envoy.wait_metric("jwt_guard.jwks_fetch_success.prod", 1)
    forge = corpus_forge(keys, issuer_of("prod"), AUDIENCE, SKEW)
    requests = _scenarios(keys) + _corpus(forge)
    sent_at = {}
    try:
        for req in requests:
            sent_at[req.id] = int(time.time())
            _send(envoy.port, req)
    finally:
        envoy.stop()  # flushes the access log
        server.close()
    lines = wait_lines(log_path, len(requests), timeout=10)
    seen = {}
    for line in lines:
        case, status, details = line.split(" ", 2)
        match = DETAILS.search(details)
        seen[case] = (int(status), match.group(1) if match else None)
    missing = [req.id for req in requests if req.id not in seen]
    assert not missing, f"not in the access log: {missing}"

    def one(req: Request):
        report, printed = _explain(req, config_file, keys_file, sent_at[req.id])
        return req, seen[req.id], (report["status"], report["reason"]), printed

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, requests))


def test_explain_agrees_with_envoy_on_every_request(compared):
    disagreements = [f"{req.id}: envoy {envoy} explain {mine}" for req, envoy, mine, _ in compared if envoy != mine]
    assert not disagreements, f"{len(disagreements)} of {len(compared)} disagree:\n" + "\n".join(disagreements)


def test_the_comparison_covers_the_corpus_and_every_kind_of_answer(compared):
    assert len(compared) >= len(CASES) * len(CORPUS_ROUTES)
    answers = {envoy for _, envoy, _, _ in compared}
    for wanted in [(200, None), (401, "missing_token"), (401, "expired"), (401, "signature"), (401, "audience"),
                   (401, "unknown_issuer"), (403, "insufficient_scope"), (401, "invalid_request")]:  # fmt: skip
        assert wanted in answers, f"no request was answered {wanted}"


def test_explain_never_prints_the_credentials(compared):
    for req, _, _, printed in compared:
        secrets = list(req.secrets)
        if req.token:
            secrets += [req.token] + [part for part in req.token.split(".") if len(part) >= 8]
        for secret in secrets:
            assert secret not in printed, f"{req.id}: explain printed a credential"
