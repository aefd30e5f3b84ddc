"""DPoP (RFC 9449) in real Envoy: bound tokens need a valid, unused proof; every §4.3 check has a failing case;
replay is refused across workers; server nonces; challenges carry both schemes. Proofs and tokens are minted with
Python `cryptography` (harness.dpop), not the crates the filter verifies with."""

from __future__ import annotations

import http.client
import json
import re
import time

import pytest

from harness.dpop import DpopKey, bound_token
from harness.http_client import request, send
from harness.keys import claims, hmac_key, jwks, make_token, rsa_key
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

ALLOWED, REQUIRED, OFF = "dp-allowed", "dp-required", "dp-off"
SKEW_S = 5
WINDOW_S = 30
# Proof algorithms: those of the providers' allow-lists (here the default, every asymmetric one).
ALGS = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA"
WORKER_CONNECTIONS = re.compile(r"^listener\.127\.0\.0\.1_\d+\.worker_(\d+)\.downstream_cx_total$")


@pytest.fixture(scope="module")
def issuer_key():
    return rsa_key("issuer-1")


def _provider(name: str, key, mode: str) -> dict:
    return provider(name, cluster=None, jwks_cluster=None, jwks=json.dumps(jwks(key)), dpop=mode)


def _config(key, **top) -> dict:
    settings = {"clock_skew_s": SKEW_S, "dpop_proof_window_s": WINDOW_S, **top}
    return plugin(
        _provider(ALLOWED, key, "allowed"),
        _provider(REQUIRED, key, "required"),
        _provider(OFF, key, "off"),
        **settings,
    )


@pytest.fixture(scope="module")
def envoy(module_launch, issuer_key):
    return module_launch(_config(issuer_key), concurrency=2)


@pytest.fixture(scope="module")
def client_key():
    return DpopKey.generate()


def _url(envoy, path: str = "/orders") -> str:
    return f"http://127.0.0.1:{envoy.port}{path}"


def _token(issuer_key, client_key, name: str = ALLOWED, **extra) -> str:
    return bound_token(issuer_key, issuer_of(name), AUDIENCE, jkt=client_key.jkt, **extra)


def _call(envoy, token: str | None, proofs: list[str], *, scheme: str = "DPoP", method: str = "GET",
          path: str = "/orders?page=2"):
    headers = [("dpop", p) for p in proofs]
    if token is not None:
        headers.append(("authorization", f"{scheme} {token}"))
    return request(envoy.port, path, headers, method)


def _challenges(resp) -> dict[str, str]:
    return {v.split(" ", 1)[0]: v for v in resp.header_values("www-authenticate")}


def test_a_bound_token_with_its_proof_is_allowed(envoy, issuer_key, client_key):
    token = _token(issuer_key, client_key)
    resp = _call(envoy, token, [client_key.proof("GET", _url(envoy), token)])
    assert resp.status == 200, resp.body
    # htu is compared after RFC 3986 normalisation, without query.
    odd = f"HTTP://127.0.0.1:{envoy.port}/./orders?ignored=1"
    resp = _call(envoy, token, [client_key.proof("GET", odd, token)])
    assert resp.status == 200, resp.body


def _failing_cases(envoy, issuer_key, client_key):
    token = _token(issuer_key, client_key)
    url = _url(envoy)
    other = DpopKey.generate()
    private_jwk = {**client_key.public_jwk(), "d": "AAAA"}
    hs = hmac_key(b"secret", "h")
    now = int(time.time())
    return token, {
        "htm": (client_key.proof("POST", url, token), "dpop_htm"),
        "htu path": (client_key.proof("GET", _url(envoy, "/other"), token), "dpop_htu"),
        "htu origin": (client_key.proof("GET", "http://evil.example/orders", token), "dpop_htu"),
        "old iat": (client_key.proof("GET", url, token, iat=now - WINDOW_S - SKEW_S - 10), "dpop_iat"),
        "future iat": (client_key.proof("GET", url, token, iat=now + 60), "dpop_iat"),
        "ath": (client_key.proof("GET", url, "another.access.token"), "dpop_ath"),
        "no ath": (client_key.proof("GET", url, None), "dpop_ath"),
        "jwk not cnf.jkt": (other.proof("GET", url, token), "dpop_binding"),
        "private jwk": (client_key.proof("GET", url, token, header={"jwk": private_jwk}), "dpop_jwk"),
        "no jwk": (client_key.proof("GET", url, token, header={"jwk": None}), "dpop_jwk"),
        "signed by another key": (client_key.proof("GET", url, token, signer=other.key), "dpop_signature"),
        "alg none": (client_key.proof("GET", url, token, header={"alg": "none"}).rsplit(".", 1)[0] + ".",
                     "dpop_alg"),
        "alg HS256": (client_key.proof("GET", url, token, header={"alg": "HS256"}, signer=hs), "dpop_alg"),
        "typ JWT": (client_key.proof("GET", url, token, header={"typ": "JWT"}), "dpop_typ"),
        "no jti": (client_key.proof("GET", url, token, payload={"jti": None}), "dpop_jti"),
        "not a JWS": ("not-a-proof", "dpop_malformed"),
    }


def test_every_proof_check_has_a_failing_case(envoy, issuer_key, client_key):
    token, cases = _failing_cases(envoy, issuer_key, client_key)
    for name, (proof, reason) in cases.items():
        before = envoy.metric(f"jwt_guard.denied.{reason}")
        resp = _call(envoy, token, [proof])
        assert resp.status == 401, f"{name}: {resp.status} {resp.body!r}"
        dpop = _challenges(resp)["DPoP"]
        code = "invalid_token" if reason == "dpop_binding" else "invalid_dpop_proof"
        assert f'error="{code}"' in dpop, f"{name}: {dpop}"
        assert f'algs="{ALGS}"' in dpop, dpop
        assert envoy.metric(f"jwt_guard.denied.{reason}") == before + 1, name


def test_header_count_and_scheme_rules(envoy, issuer_key, client_key):
    token = _token(issuer_key, client_key)
    url = _url(envoy)
    proof = client_key.proof("GET", url, token)
    two = _call(envoy, token, [proof, client_key.proof("GET", url, token)])
    assert two.status == 401 and "invalid_dpop_proof" in _challenges(two)["DPoP"]
    missing = _call(envoy, token, [])
    assert missing.status == 401 and "invalid_dpop_proof" in _challenges(missing)["DPoP"]
    # A bound token sent as Bearer is refused, with or without a proof: the binding is the point.
    as_bearer = _call(envoy, token, [client_key.proof("GET", url, token)], scheme="Bearer")
    assert as_bearer.status == 401
    assert 'error="invalid_token"' in _challenges(as_bearer)["Bearer"]
    # A proof sent without a token.
    alone = _call(envoy, None, [client_key.proof("GET", url, token)])
    assert alone.status == 401
    # The DPoP scheme with a token that has no cnf.jkt: its binding cannot be checked.
    unbound = make_token(issuer_key, claims(issuer_of(ALLOWED), AUDIENCE))
    resp = _call(envoy, unbound, [client_key.proof("GET", url, unbound)])
    assert resp.status == 401 and 'error="invalid_token"' in _challenges(resp)["DPoP"]
    # The same unbound token as Bearer is fine where DPoP is allowed...
    assert _call(envoy, unbound, [], scheme="Bearer").status == 200
    # ...refused where it is required...
    required = make_token(issuer_key, claims(issuer_of(REQUIRED), AUDIENCE))
    assert _call(envoy, required, [], scheme="Bearer").status == 401
    bound_required = _token(issuer_key, client_key, REQUIRED)
    ok = _call(envoy, bound_required, [client_key.proof("GET", url, bound_required)])
    assert ok.status == 200, ok.body
    # ...and the DPoP scheme is refused where it is off.
    bound_off = _token(issuer_key, client_key, OFF)
    assert _call(envoy, bound_off, [client_key.proof("GET", url, bound_off)]).status == 401
    assert _call(envoy, bound_off, [], scheme="Bearer").status == 401


def test_missing_token_challenges_offer_both_schemes(envoy):
    resp = request(envoy.port, "/orders")
    assert resp.status == 401
    challenges = _challenges(resp)
    assert set(challenges) == {"Bearer", "DPoP"}
    assert f'algs="{ALGS}"' in challenges["DPoP"]


def _worker_of_each(envoy, conns: list[http.client.HTTPConnection], token: str, key: DpopKey) -> list[int]:
    """Open each connection with one accepted request and note which worker's connection count rose."""
    workers = []
    for conn in conns:
        before = {m.group(1): v for n, v in envoy.stats().items() if (m := WORKER_CONNECTIONS.match(n))}
        resp = send(conn, "/orders", [("authorization", f"DPoP {token}"),
                                      ("dpop", key.proof("GET", _url(envoy), token))])
        assert resp.status == 200, resp.body
        after = {m.group(1): v for n, v in envoy.stats().items() if (m := WORKER_CONNECTIONS.match(n))}
        grew = [w for w, v in after.items() if v > before.get(w, 0)]
        workers.append(int(grew[0]) if len(grew) == 1 else -1)
    return workers


def test_a_replayed_proof_is_refused_on_another_worker(envoy, issuer_key, client_key):
    token = _token(issuer_key, client_key)
    conns = [http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=10) for _ in range(12)]
    try:
        workers = _worker_of_each(envoy, conns, token, client_key)
        first = next((c for c, w in zip(conns, workers) if w == 0), None)
        second = next((c for c, w in zip(conns, workers) if w == 1), None)
        assert first is not None and second is not None, f"connections did not reach both workers: {workers}"
        before = envoy.metric("jwt_guard.denied.dpop_replay")
        proof = client_key.proof("GET", _url(envoy), token)
        headers = [("authorization", f"DPoP {token}"), ("dpop", proof)]
        assert send(first, "/orders", headers).status == 200
        replay = send(second, "/orders", headers)
        assert replay.status == 401, replay.body
        assert 'error="invalid_dpop_proof"' in _challenges(replay)["DPoP"]
        assert send(first, "/orders", headers).status == 401
        assert envoy.metric("jwt_guard.denied.dpop_replay") == before + 2
    finally:
        for conn in conns:
            conn.close()


def test_server_nonces(launch, issuer_key, client_key):
    envoy = launch(_config(issuer_key, dpop_nonce=True), concurrency=2)
    token = _token(issuer_key, client_key)
    url = _url(envoy)
    first = _call(envoy, token, [client_key.proof("GET", url, token)])
    assert first.status == 401
    assert 'error="use_dpop_nonce"' in _challenges(first)["DPoP"]
    nonce = first.header("dpop-nonce")
    assert nonce
    retry = _call(envoy, token, [client_key.proof("GET", url, token, nonce=nonce)])
    assert retry.status == 200, retry.body
    forged = _call(envoy, token, [client_key.proof("GET", url, token, nonce=nonce[:-2] + "AA")])
    assert forged.status == 401 and "use_dpop_nonce" in _challenges(forged)["DPoP"]
    # Every worker accepts the nonces of the others: many fresh connections, one nonce.
    for _ in range(8):
        assert _call(envoy, token, [client_key.proof("GET", url, token, nonce=nonce)]).status == 200


def test_dpop_origin_replaces_the_request_origin(launch, issuer_key, client_key):
    envoy = launch(_config(issuer_key, dpop_origin="https://api.example.test"))
    token = _token(issuer_key, client_key)
    outside = client_key.proof("GET", "https://api.example.test/orders", token)
    assert _call(envoy, token, [outside]).status == 200
    inside = client_key.proof("GET", _url(envoy), token)
    assert _call(envoy, token, [inside]).status == 401


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"dpop_proof_window_s": 0}, "dpop_proof_window_s"),
        ({"dpop_origin": "api.example.test"}, "dpop_origin"),
        ({"dpop_nonce": "yes"}, "dpop_nonce"),
    ],
)
def test_bad_dpop_options_are_refused_naming_the_field(launch, issuer_key, bad, field):
    from harness.envoy import assert_refuses

    envoy = launch.prepare(_config(issuer_key, **bad))
    assert_refuses(envoy, re.escape(field))


def test_bad_provider_mode_is_refused(launch, issuer_key):
    from harness.envoy import assert_refuses

    envoy = launch.prepare(plugin(_provider("p", issuer_key, "sometimes")))
    assert_refuses(envoy, "dpop")
