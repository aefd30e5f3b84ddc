"""Token validation against the shared deployment: what is accepted, each rejection reason, and no leakage."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.assertions import assert_invalid_token, assert_json_error, assert_missing_token, challenge
from harness.guard import CLOCK_SKEW_S, ISSUER, USERINFO, guard_config
from harness.keys import SigningKey, b64url, b64url_decode, claims, ec_key, hmac_key, make_token, rsa_key
from harness.plugin import AUDIENCE


def now() -> int:
    return int(time.time())


@pytest.fixture(scope="module")
def strangers():
    """Keys the JWKS never publishes: an RSA key reusing the published kid rsa-1, and an unknown EC key."""
    return SimpleNamespace(rsa_1_impostor=rsa_key("rsa-1"), ec=ec_key("stranger"))


def payload(**overrides) -> dict:
    return claims(ISSUER, [AUDIENCE, USERINFO], **overrides)


def _with_signature_of(token: str, other: str) -> str:
    return token.rsplit(".", 1)[0] + "." + other.rsplit(".", 1)[1]


def _corrupt_signature(token: str) -> str:
    signing_input, signature = token.rsplit(".", 1)
    raw = bytearray(b64url_decode(signature))
    raw[0] ^= 0x01
    return f"{signing_input}.{b64url(bytes(raw))}"


def _non_canonical_signature(token: str) -> str:
    """Same signature bytes, but the unused low bits of the last base64url character set (RSA-2048: 4 spare bits)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return token[:-1] + alphabet[alphabet.index(token[-1]) | 0x01]


def _public_pem(key: SigningKey) -> bytes:
    return key.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _der_es256(key: SigningKey, body: dict) -> str:
    unsigned = make_token(key, body, signature=b"")[:-1]
    der = key.private.sign(unsigned.encode(), ec.ECDSA(hashes.SHA256()))
    return f"{unsigned}.{b64url(der)}"


# id -> (token builder(guard, keys, strangers), error_description regex, metric reasons or None when unspecified)
REJECTIONS = {
    "expired": (lambda g, k, s: g.token(exp=now() - 3600, iat=now() - 7200), r"expired", ["expired"]),
    "expired-beyond-skew": (lambda g, k, s: g.token(exp=now() - CLOCK_SKEW_S - 30), r"expired", ["expired"]),
    "nbf-in-future": (lambda g, k, s: g.token(nbf=now() + 3600), r"not yet valid", ["not_yet_valid"]),
    "wrong-issuer": (lambda g, k, s: g.token(iss="https://evil.tenant.test/"), r"issuer", ["issuer", "unknown_issuer"]),
    "issuer-without-trailing-slash": (
        lambda g, k, s: g.token(iss=ISSUER.rstrip("/")), r"issuer", ["issuer", "unknown_issuer"]),
    "issuer-other-case": (lambda g, k, s: g.token(iss=ISSUER.upper()), r"issuer", ["issuer", "unknown_issuer"]),
    "missing-issuer": (lambda g, k, s: g.token(iss=None), r"issuer", ["issuer", "unknown_issuer", "claims"]),
    "wrong-audience": (lambda g, k, s: g.token(aud="https://other.api.test"), r"audience", ["audience"]),
    "audience-array-without-ours": (
        lambda g, k, s: g.token(aud=["https://other.api.test", USERINFO]), r"audience", ["audience"]),
    "audience-with-extra-slash": (lambda g, k, s: g.token(aud=AUDIENCE + "/"), r"audience", ["audience"]),
    "bad-signature": (lambda g, k, s: _corrupt_signature(g.token()), r"signature", ["signature"]),
    "impostor-key-same-kid": (lambda g, k, s: g.token(s.rsa_1_impostor), r"signature", ["signature"]),
    "payload-swapped-under-old-signature": (
        lambda g, k, s: _with_signature_of(g.token(sub="admin"), g.token()), r"signature", ["signature"]),
    "embedded-jwk-with-known-kid": (
        lambda g, k, s: g.token(s.rsa_1_impostor, header={"jwk": s.rsa_1_impostor.jwk()}), r"signature", ["signature"]),
    "es256-zero-signature": (
        lambda g, k, s: make_token(k.es256, payload(), signature=bytes(64)), r"signature", ["signature"]),
    "es256-der-signature": (
        lambda g, k, s: _der_es256(k.es256, payload()), r"signature|malformed", ["signature", "malformed"]),
    "alg-none": (lambda g, k, s: make_token(k.rs256, payload(), {"alg": "none"}, signature=b"sig"), r"algorithm",
                 ["algorithm"]),
    "alg-none-empty-signature": (lambda g, k, s: make_token(k.rs256, payload(), {"alg": "none"}, signature=b""),
                                 r"algorithm|signature", ["algorithm", "malformed", "signature"]),
    "alg-lowercase": (lambda g, k, s: g.token(header={"alg": "rs256"}), r"algorithm", ["algorithm"]),
    "hs256-keyed-with-public-pem": (
        lambda g, k, s: make_token(hmac_key(_public_pem(k.rs256), k.rs256.kid), payload()), r"algorithm",
        ["algorithm"]),
    "hs256-keyed-with-jwk": (
        lambda g, k, s: make_token(hmac_key(json.dumps(k.rs256.jwk()).encode(), k.rs256.kid), payload()),
        r"algorithm", ["algorithm"]),
    "es256-alg-on-rsa-kid": (
        lambda g, k, s: make_token(k.es256, payload(), {"kid": k.rs256.kid}), r"algorithm", ["algorithm"]),
    "ps256-alg-on-rs256-jwk": (
        lambda g, k, s: make_token(SigningKey("rsa-1", "PS256", k.rs256.private), payload()), r"algorithm",
        ["algorithm"]),
    "es256-alg-on-p384-key": (
        lambda g, k, s: make_token(SigningKey("ec-384", "ES256", k.es384.private), payload()), r"algorithm",
        ["algorithm"]),
    "missing-exp": (lambda g, k, s: g.token(exp=None), r"missing exp", ["claims"]),
    "exp-as-string": (lambda g, k, s: g.token(exp=str(now() + 300)), r"exp", None),
    "crit-header": (lambda g, k, s: g.token(header={"crit": ["exp"]}), r"crit", None),
    "b64-false": (lambda g, k, s: g.token(header={"b64": False, "crit": ["b64"]}), r"crit|b64", None),
    "two-segments": (lambda g, k, s: g.token().rsplit(".", 1)[0], r"malformed", ["malformed"]),
    "four-segments": (lambda g, k, s: g.token() + ".AAAA", r"malformed", ["malformed"]),
    "jwe-five-segments": (lambda g, k, s: "eyJhbGciOiJSU0EtT0FFUCJ9.AAAA.AAAA.AAAA.AAAA", r"encrypted \(JWE\)",
                          ["encrypted"]),
    "opaque": (lambda g, k, s: "8uJhyXw3-9fnVbTzq2LrQk0aP4sDdEeF", r"not a JWT: request an access token", ["not_jwt"]),
    "empty-segments": (lambda g, k, s: "..", r"malformed", ["malformed"]),
    "padded-signature": (lambda g, k, s: g.token() + "==", r"malformed", ["malformed"]),
    "non-canonical-base64url": (lambda g, k, s: _non_canonical_signature(g.token()), r"malformed", ["malformed"]),
    "standard-base64-alphabet": (lambda g, k, s: "+" + g.token(), r"malformed", ["malformed"]),
    "header-not-an-object": (
        lambda g, k, s: make_token(k.rs256, payload(), raw_header=b'["RS256"]'), r"malformed", ["malformed"]),
    "payload-not-json": (lambda g, k, s: make_token(k.rs256, None, raw_payload=b"not json"), r"malformed",
                         ["malformed"]),
    "payload-not-an-object": (lambda g, k, s: make_token(k.rs256, None, raw_payload=b"[1,2]"), r"malformed",
                              ["malformed"]),
    "oversized": (lambda g, k, s: g.token(pad="x" * 9000), r"malformed|large|long|size|exceed", ["malformed"]),
}


def _denied(guard, reasons) -> int:
    return sum(guard.metric(f"denied.{r}") for r in reasons)


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_rejected_token(guard, keys, strangers, case):
    build, pattern, reasons = REJECTIONS[case]
    token = build(guard, keys, strangers)
    before = _denied(guard, reasons or [])
    resp = guard.get("/api", token=token)
    assert_invalid_token(resp, token, pattern)
    if reasons:
        assert _denied(guard, reasons) == before + 1, f"denied.{{{','.join(reasons)}}} did not count the rejection"


@pytest.mark.parametrize("name", ["rs256", "rs256_next", "rs384", "rs512", "ps256", "es256", "es384", "eddsa"])
def test_valid_token_for_each_algorithm(guard, keys, name):
    key = getattr(keys, name)
    resp = guard.get("/api/items", token=guard.token(key))
    assert resp.status == 200, resp.body
    assert resp.header("x-upstream") == "echo"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(guard, scheme):
    resp = guard.get("/api", {"authorization": f"{scheme} {guard.token()}"})
    assert resp.status == 200, resp.body


def test_audience_as_plain_string(guard):
    assert guard.get("/api", token=guard.token(aud=AUDIENCE)).status == 200


def test_clock_skew_leeway_applies_to_exp_and_nbf(guard):
    assert guard.get("/api", token=guard.token(exp=now() - CLOCK_SKEW_S // 2)).status == 200
    assert guard.get("/api", token=guard.token(nbf=now() + CLOCK_SKEW_S // 2)).status == 200


def test_an_accepted_token_still_expires(guard):
    token = guard.token(exp=now() - CLOCK_SKEW_S + 2)  # valid for about two more seconds, leeway included
    assert guard.get("/api", token=token).status == 200
    deadline = time.monotonic() + 10
    while (resp := guard.get("/api", token=token)).status == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert_invalid_token(resp, token, r"expired")


def test_token_without_kid_is_checked_against_keys_of_its_algorithm(guard, keys, strangers):
    for key in (keys.rs256_next, keys.es256, keys.eddsa):
        token = make_token(key, payload(), omit=("kid",))
        assert guard.get("/api", token=token).status == 200, key.alg
    stranger_token = make_token(strangers.ec, payload(), omit=("kid",))
    assert_invalid_token(guard.get("/api", token=stranger_token), stranger_token, r"signature|unknown key")


def test_missing_token_gets_bare_challenge(guard):
    before = guard.metric("denied.missing_token")
    assert_missing_token(guard.get("/api"))
    assert guard.metric("denied.missing_token") == before + 1


def test_other_auth_scheme_counts_as_missing_token(guard):
    # RFC 6750 3.1: a request using an unsupported authentication method gets the challenge without an error code.
    assert_missing_token(guard.get("/api", {"authorization": "Basic dXNlcjpwYXNz"}))


def test_two_authorization_headers_are_an_invalid_request(guard):
    # RFC 6750 suggests 400 for invalid_request; jwt-guard answers 401 so that every
    # credential it cannot accept gets the same status. Envoy may join the two
    # headers with a comma before the filter sees them; either way it is invalid_request.
    token = guard.token()
    before = guard.metric("denied.invalid_request")
    resp = guard.get("/api", [("authorization", f"Bearer {token}"), ("authorization", f"Bearer {token}")])
    assert_json_error(resp, 401, "invalid_request")
    scheme, params = challenge(resp)
    assert scheme == "Bearer" and params.get("error") == "invalid_request"
    assert guard.metric("denied.invalid_request") == before + 1


def test_unknown_kid_triggers_a_refetch_then_is_rejected(launch, fresh_jwks, keys, strangers):
    # An Envoy of its own: the shared one's refetch cooldown has doubled after every unknown kid other tests sent.
    fresh_jwks.publish(*keys.all())
    envoy = launch(guard_config(), clusters={"jwks": fresh_jwks.port})
    assert envoy.get("/api", token=make_token(keys.rs256, payload())).status == 200
    before = fresh_jwks.hits()
    token = make_token(strangers.ec, payload())
    resp = envoy.get("/api", token=token)
    assert_invalid_token(resp, token, r"unknown key")
    assert fresh_jwks.hits() == before + 1, "the unknown kid did not cause exactly one JWKS refetch"


def test_keys_referenced_by_the_token_are_never_fetched(guard, strangers):
    guard.jwks.publish(strangers.ec, path="/attacker/jwks.json")
    token = make_token(strangers.ec, payload(), {"jku": guard.jwks.url("/attacker/jwks.json"), "jwk": strangers.ec.jwk(),
                                                 "x5u": guard.jwks.url("/attacker/jwks.json")})
    assert_invalid_token(guard.get("/api", token=token), token, r"unknown key|signature")
    assert guard.jwks.hits("/attacker/jwks.json") == 0


def test_tokens_never_reach_the_log(guard, keys):
    sent = [guard.token(), guard.token(exp=now() - 3600), _corrupt_signature(guard.token(keys.es256))]
    for token in sent:
        guard.get("/api", token=token)
    log = guard.envoy.log()
    for token in sent:
        assert token not in log and token.rsplit(".", 1)[1] not in log, "a token or its signature was logged"
