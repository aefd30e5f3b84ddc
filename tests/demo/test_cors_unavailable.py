"""A 503 from jwt-guard (the issuer's keys cannot be fetched) reaches the SPA with the CORS
grant for its origin, like the 401/403 the demo self-check covers, and other origins get
none. Envoy runs the demo's own config, rendered with an IdP address nobody listens on.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENVOY = ROOT / ".venv" / "bin" / "envoy"
WASM = ROOT / "target" / "wasm32-wasip1" / "release" / "jwt_guard.wasm"
SPA = "http://127.0.0.1:3000"


def b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def request(url: str, headers: dict) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}


def test_503_carries_cors_for_the_spa_only(tmp_path, free_ports):
    assert WASM.is_file(), "build the filter first (make build)"
    listen, admin, idp, upstream = free_ports(4)
    issuer = f"http://127.0.0.1:{idp}/"
    template = (ROOT / "demo" / "envoy.template.yaml").read_text().split("\n\n", 1)[1]
    values = {"LISTEN_ADDRESS": "127.0.0.1", "ADMIN_ADDRESS": "127.0.0.1", "CLUSTER_TYPE": "STATIC",
              "IDP_HOST": "127.0.0.1", "UPSTREAM_HOST": "127.0.0.1", "WASM_PATH": str(WASM),
              "ENVOY_PORT": listen, "ADMIN_PORT": admin, "IDP_PORT": idp,
              "UPSTREAM_PORT": upstream, "ISSUER": issuer, "SPA_ORIGIN": SPA}
    for name, value in values.items():
        template = template.replace(f"@{name}@", str(value))
    assert "@" not in template.replace('"@type"', "")
    config = tmp_path / "envoy.yaml"
    config.write_text(template)
    log = (tmp_path / "envoy.log").open("w")
    envoy = subprocess.Popen([str(ENVOY), "-c", str(config), "--disable-hot-restart",
                              "--concurrency", "1", "--base-id", str(listen)],
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(f"http://127.0.0.1:{admin}/ready", {})[0] == 200:
                    break
            except OSError:
                pass
            assert envoy.poll() is None and time.monotonic() < deadline, (
                (tmp_path / "envoy.log").read_text()[-3000:])
            time.sleep(0.2)
        # A token for the trusted issuer: its keys cannot be fetched, so jwt-guard answers
        # 503 with Retry-After (the signature is never looked at).
        token = ".".join([b64({"alg": "RS256", "typ": "JWT", "kid": "k1"}),
                          b64({"iss": issuer, "aud": "https://api.example.com",
                               "sub": "auth0|x", "exp": int(time.time()) + 600}),
                          "c2ln"])
        api = f"http://127.0.0.1:{listen}/api/data"
        status, headers = request(api, {"Authorization": f"Bearer {token}", "Origin": SPA})
        assert status == 503, headers
        assert "retry-after" in headers
        assert headers.get("access-control-allow-origin") == SPA
        assert "retry-after" in headers.get("access-control-expose-headers", "")
        status, headers = request(api, {"Authorization": f"Bearer {token}",
                                        "Origin": "http://elsewhere.example"})
        assert status == 503 and "access-control-allow-origin" not in headers
    finally:
        envoy.terminate()
        envoy.wait(timeout=30)
        log.close()
