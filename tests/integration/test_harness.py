"""Self-checks of the harness itself; none of these needs the filter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from harness.bootstrap import direct_response_routes, http_connection_manager, listener, static_bootstrap
from harness.envoy import Envoy, wait_refused
from harness.http_client import request
from harness.jwks_server import HUGE_BODY_BYTES, JwksServer
from harness.keys import b64url_decode, claims, hmac_key, make_token

HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def _int(segment: str) -> int:
    return int.from_bytes(b64url_decode(segment), "big")


def verify_with_jwk(token: str, jwk: dict) -> None:
    """Independent JWS verification from the published JWK (raises InvalidSignature)."""
    header_b64, payload_b64, sig_b64 = token.split(".")
    alg = json.loads(b64url_decode(header_b64))["alg"]
    data, sig = f"{header_b64}.{payload_b64}".encode(), b64url_decode(sig_b64)
    if jwk["kty"] == "RSA":
        pub = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
        digest = HASHES[alg[-3:]]
        pad = padding.PKCS1v15() if alg.startswith("RS") else padding.PSS(padding.MGF1(digest), digest.digest_size)
        pub.verify(sig, data, pad, digest)
    elif jwk["kty"] == "EC":
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[jwk["crv"]]
        pub = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve).public_key()
        half = len(sig) // 2
        assert half == {"P-256": 32, "P-384": 48}[jwk["crv"]]
        der = encode_dss_signature(int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big"))
        pub.verify(der, data, ec.ECDSA(HASHES[alg[-3:]]))
    else:
        ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(sig, data)


def test_every_key_signs_tokens_its_jwk_verifies(keys):
    for key in keys.all():
        token = make_token(key, claims("https://i.test/", "aud"))
        header = json.loads(b64url_decode(token.split(".")[0]))
        assert header == {"alg": key.alg, "typ": "JWT", "kid": key.kid}
        jwk = key.jwk()
        assert jwk["kid"] == key.kid and jwk["alg"] == key.alg and jwk["use"] == "sig"
        verify_with_jwk(token, jwk)
        tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
        with pytest.raises(InvalidSignature):
            verify_with_jwk(tampered, jwk)


def test_make_token_crafts_hostile_shapes(keys):
    token = make_token(keys.rs256, {"a": 1}, {"alg": "none", "crit": ["b64"]}, omit=("kid",), signature=b"")
    header_b64, payload_b64, sig = token.split(".")
    assert json.loads(b64url_decode(header_b64)) == {"alg": "none", "typ": "JWT", "crit": ["b64"]}
    assert sig == ""
    assert make_token(None, None, raw_header=b"[1]", raw_payload=b"x", signature=b"s").split(".")[:2] == ["WzFd", "eA"]
    hs = make_token(hmac_key(b"secret", "k"), {"a": 1})
    assert json.loads(b64url_decode(hs.split(".")[0]))["alg"] == "HS256"


def test_claims_defaults_and_drops():
    body = claims("https://i.test/", ["a", "b"], ttl=10, exp=None, scope="read")
    assert body["iss"] == "https://i.test/" and body["aud"] == ["a", "b"] and body["scope"] == "read"
    assert "exp" not in body


def test_jwks_server_documents_faults_and_counters(keys):
    server = JwksServer()
    try:
        server.publish(keys.rs256)
        server.publish(keys.es256, path="/t/jwks.json")
        resp = request(server.port, "/.well-known/jwks.json")
        assert resp.status == 200 and [k["kid"] for k in resp.json()["keys"]] == ["rsa-1"]
        assert request(server.port, "/t/jwks.json").json()["keys"][0]["kid"] == "ec-256"
        server.publish(keys.rs256_next)
        assert request(server.port, "/.well-known/jwks.json").json()["keys"][0]["kid"] == "rsa-2"
        assert request(server.port, "/nothing").status == 404
        expectations = {
            ("status", 500): (500, None),
            ("status", 429): (429, None),
            ("garbage", 0): (200, "not json"),
            ("empty", 0): (200, ""),
            ("html", 0): (200, "<html>"),
        }
        for (kind, status), (want_status, want_body) in expectations.items():
            server.fail(kind, status=status)
            resp = request(server.port, "/.well-known/jwks.json")
            assert resp.status == want_status
            if want_body is not None:
                assert want_body in resp.body.decode(errors="replace")
        server.fail("huge")
        assert len(request(server.port, "/.well-known/jwks.json").body) == HUGE_BODY_BYTES
        server.heal()
        server.delay(0.3)
        assert request(server.port, "/.well-known/jwks.json").status == 200
        assert server.hits() == 9 and server.wait_served(9) == 9 and server.hits("/t/jwks.json") == 1
        assert server.hits("/nothing") == 1 and server.seconds_since_last_hit() < 5
        server.reset_counters()
        assert server.hits() == 0 and server.served() == 0
    finally:
        server.close()


def test_envoy_without_filter_proxies_to_echo_upstream(launch, jwks_server):
    envoy = launch(None, clusters={"jwks": jwks_server.port})
    resp = envoy.get("/some/path?q=1", {"x-test": "yes"}, token="abc")
    assert resp.status == 200
    assert resp.json()["path"] == "/some/path?q=1"
    seen = resp.upstream_headers()
    assert seen["x-test"] == ["yes"] and seen["authorization"] == ["Bearer abc"]
    assert envoy.stats()["cluster.upstream.upstream_rq_total"] >= 1
    envoy.stop()
    assert envoy.returncode == 0


def test_refusal_helper_sees_a_rejected_wasm_filter(launch, tmp_path):
    envoy = launch.prepare("{}", wasm_path=tmp_path / "missing.wasm")
    assert "missing.wasm" in wait_refused(envoy)


def test_envoy_reports_its_process_and_filtered_stats(launch):
    envoy = launch(None, env={"JWT_GUARD_HARNESS_CHECK": "set-by-launcher"})
    assert b"JWT_GUARD_HARNESS_CHECK=set-by-launcher" in Path(f"/proc/{envoy.pid}/environ").read_bytes()
    assert envoy.get("/").status == 200
    assert 0 < envoy.rss_kib() <= envoy.peak_rss_kib()
    assert envoy.cpu_seconds() > 0
    only = envoy.stats(r"^cluster\.upstream\.upstream_rq_")
    assert only and all(name.startswith("cluster.upstream.upstream_rq_") for name in only)
    assert envoy.stat_sum(r"^cluster\.upstream\.upstream_rq_total$") >= 1
    envoy.stop()
    assert envoy.rss_kib() == 0


def test_envoy_runs_a_bootstrap_of_its_own(tmp_path):
    hcm = http_connection_manager([], direct_response_routes("from envoy\n"), stat_prefix="own")
    config = static_bootstrap([listener(hcm, name="own")], [])
    text = "# written verbatim\n" + json.dumps(config)
    envoy = Envoy(tmp_path, config=text, args=("--service-node", "harness-check")).start()
    try:
        resp = envoy.get("/anything")
        assert resp.status == 200 and resp.body == b"from envoy\n"
        assert envoy.config_path.read_text() == text
        info = json.loads(request(envoy.admin_port, "/server_info").body)
        assert info["command_line_options"]["service_node"] == "harness-check"
    finally:
        envoy.stop()
    with pytest.raises(ValueError):
        Envoy(tmp_path / "x", config=text, customize=lambda config: None)
