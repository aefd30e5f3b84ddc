"""`jwt-guard explain --fetch` and `jwt-guard jwks URL` over real HTTPS: a local server with a certificate from a
throw-away CA (trusted through SSL_CERT_FILE) serves the key set and an OpenID discovery document. Without the CA the
certificate is refused and no keys arrive; the token is never printed."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.dpop import CertificateAuthority
from harness.keys import claims, jwks, make_token
from harness.local_server import QuietHandler

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "debug" / "jwt-guard"
AUDIENCE = "https://api.example.test"


class _Handler(QuietHandler):
    def handle_any(self) -> None:
        body = self.server.documents.get(self.path)
        self.reply(200, body) if body is not None else self.reply(404, b"{}")


@pytest.fixture(scope="module")
def https(tmp_path_factory):
    """(base URL, CA file, documents) of an HTTPS server on 127.0.0.1."""
    directory = tmp_path_factory.mktemp("cli-https")
    authority = CertificateAuthority(directory)
    leaf = authority.issue("server", "localhost", server=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.documents = {}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf.cert_path, leaf.key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", authority.ca.cert_path, server.documents
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def binary():
    subprocess.run(["cargo", "build", "--locked", "-q", "-p", "jwt-guard-cli"], cwd=ROOT, check=True, timeout=1800)
    return BINARY


def _run(args: list[str], ca: Path | None, stdin: str = "") -> tuple[int, str, str]:
    env = {"PATH": "/usr/bin:/bin"} | ({"SSL_CERT_FILE": str(ca)} if ca else {})
    done = subprocess.run([str(BINARY), *args], input=stdin.encode(), capture_output=True, timeout=60, env=env)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


@pytest.fixture(scope="module")
def setup(binary, https, keys, tmp_path_factory):
    base, ca, documents = https
    issuer = f"{base}/tenant/"
    documents["/keys.json"] = json.dumps(jwks(keys.rs256)).encode()
    documents["/tenant/.well-known/openid-configuration"] = json.dumps(
        {"issuer": issuer, "jwks_uri": f"{base}/keys.json"}).encode()
    directory = tmp_path_factory.mktemp("cli-fetch")
    remote = {"name": "remote", "issuer": issuer, "audiences": [AUDIENCE], "jwks_uri": f"{base}/keys.json",
              "jwks_cluster": "idp"}  # fmt: skip
    discovered = {"name": "discovered", "issuer": issuer, "audiences": [AUDIENCE], "discovery": True,
                  "jwks_cluster": "idp"}  # fmt: skip
    configs = {}
    for name, provider in (("remote", remote), ("discovered", discovered)):
        configs[name] = directory / f"{name}.json"
        configs[name].write_text(json.dumps({"providers": [provider]}))
    token = make_token(keys.rs256, claims(issuer, AUDIENCE))
    return base, ca, configs, token


@pytest.mark.parametrize("kind", ["remote", "discovered"])
def test_fetch_over_https_with_a_private_ca(setup, kind):
    base, ca, configs, token = setup
    code, out, err = _run(["explain", "--config", str(configs[kind]), "--fetch", "--json", "-"], ca, token)
    assert code == 0, out + err
    report = json.loads(out)
    assert (report["status"], report["provider"], report["verified"]) == (200, kind, True), report
    assert any(note.startswith(f"GET {base}/keys.json: 200") for note in report["notes"]), report["notes"]
    for part in [token, *token.split(".")]:
        assert part not in out + err


def test_an_untrusted_certificate_brings_no_keys(setup):
    _, _, configs, token = setup
    code, out, err = _run(["explain", "--config", str(configs["remote"]), "--fetch", "--json", "-"], None, token)
    assert code == 1, out + err
    report = json.loads(out)
    assert (report["status"], report["reason"]) == (503, "keys_unavailable"), report
    assert any("certificate" in note.lower() or "unknownissuer" in note.lower() for note in report["notes"]), report


def test_jwks_reads_a_url(setup, keys):
    base, ca, _, _ = setup
    code, out, err = _run(["jwks", f"{base}/keys.json"], ca)
    assert code == 0, out + err
    assert f'kid "{keys.rs256.kid}", RSA 2048 bits, alg RS256: accepted for RS256' in out
    code, _, err = _run(["jwks", f"{base}/missing.json"], ca)
    assert code == 2 and "404" in err
