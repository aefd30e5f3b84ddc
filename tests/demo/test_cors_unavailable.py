"""A 503 from jwt-guard (the issuer's keys cannot be fetched) reaches the SPA with the CORS
grant for its origin, like the 401/403 test_demo_answers.py covers, and other origins get
none. Envoy runs the demo's own config (harness.demo), rendered with an IdP address nobody
listens on.
"""

from __future__ import annotations

import base64
import json
import time

from harness.demo import Ports, render, template_values
from harness.envoy import Envoy
from harness.http_client import request
from harness.wasm import ensure_wasm

SPA = "http://127.0.0.1:3000"


def b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_503_carries_cors_for_the_spa_only(tmp_path, free_ports):
    listen, admin, idp, upstream = free_ports(4)
    ports = Ports(idp=idp, envoy=listen, admin=admin, upstream=upstream)
    issuer = f"http://127.0.0.1:{idp}/"
    config = render(template_values(ports, listen="127.0.0.1", cluster_type="STATIC", idp_host="127.0.0.1",
                                    upstream_host="127.0.0.1", wasm=ensure_wasm(), issuer=issuer, spa_origin=SPA))
    envoy = Envoy(tmp_path, config=config).start(timeout=60)
    try:
        # A token for the trusted issuer: its keys cannot be fetched, so jwt-guard answers
        # 503 with Retry-After (the signature is never looked at).
        token = ".".join([b64({"alg": "RS256", "typ": "JWT", "kid": "k1"}),
                          b64({"iss": issuer, "aud": "https://api.example.com",
                               "sub": "auth0|x", "exp": int(time.time()) + 600}),
                          "c2ln"])
        resp = request(listen, "/api/data", {"Authorization": f"Bearer {token}", "Origin": SPA}, timeout=30)
        assert resp.status == 503, resp.headers
        assert resp.header("retry-after") is not None
        assert resp.header("access-control-allow-origin") == SPA
        assert "retry-after" in (resp.header("access-control-expose-headers") or "")
        resp = request(listen, "/api/data", {"Authorization": f"Bearer {token}", "Origin": "http://elsewhere.example"},
                       timeout=30)
        assert resp.status == 503 and resp.header("access-control-allow-origin") is None
    finally:
        envoy.stop()
