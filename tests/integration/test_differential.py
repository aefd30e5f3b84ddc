"""Differential signature checking in real Envoy.

"both": every signature is checked by Envoy's BoringSSL (verify_signature, RS256/384/512) and by jwt-simple, a
disagreement is refused and counted. With the token cache off, every valid token of every algorithm and every case
of the attack corpus gets its expected verdict, and no disagreement is ever counted or logged.
"host": RS256/384/512 verified by BoringSSL alone accept genuine tokens and refuse forged ones.
"""

from __future__ import annotations

import re
import time

import pytest

from harness.corpus import CASES, build_one
from harness.corpus.cases import flip_signature_bit, signature_of_other
from harness.assertions import assert_invalid_token
from harness.hostile import assert_refused, corpus_forge, raw_request, start_with_header_limit
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

SKEW = 60
ALGORITHMS = ["rs256", "rs384", "rs512", "ps256", "es256", "es384", "eddsa"]
HOST_ALGORITHMS = ["rs256", "rs384", "rs512"]
DISAGREEMENTS = "jwt_guard.signature_disagreements"
DISAGREE_LINE = re.compile(r"signature backends disagree")


def config(backend: str) -> dict:
    return plugin(provider("prod", refetch_cooldown_s=1), clock_skew_s=SKEW, max_token_bytes=8192,
                  token_cache_size=0, signature_backend=backend)


@pytest.fixture(scope="module")
def both(module_launch, every_key_jwks):
    return start_with_header_limit(module_launch, config("both"), {"jwks": every_key_jwks.port})


@pytest.fixture(scope="module")
def host(module_launch, every_key_jwks):
    return start_with_header_limit(module_launch, config("host"), {"jwks": every_key_jwks.port})


@pytest.fixture(scope="module")
def forge(keys):
    return corpus_forge(keys, issuer_of("prod"), AUDIENCE, SKEW)


def disagreements_logged(envoy) -> int:
    return sum(1 for line in envoy.log().splitlines() if DISAGREE_LINE.search(line))


def test_both_backends_are_in_use(both):
    both.wait_log(r"signatures: both")


@pytest.mark.parametrize("name", ALGORITHMS)
def test_valid_tokens_pass_both_backends(both, forge, name):
    for _ in range(5):  # distinct tokens: with the cache off each is verified afresh
        resp = raw_request(both.port, (f"Bearer {forge.valid(name)}".encode(),))
        assert resp.status == 200, f"{name}: {resp.status} {resp.body[:200]!r}"
    assert disagreements_logged(both) == 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_attack_gets_the_same_verdict_with_both_backends(both, forge, case):
    attack = build_one(case, forge)
    before = disagreements_logged(both)
    assert_refused(raw_request(both.port, attack.authorization), attack)
    assert disagreements_logged(both) == before, f"{attack.id}: the backends disagreed"


def test_no_disagreement_was_counted(both, forge):
    # The worker publishes the counter on its next tick (idle ticks are 1 s apart).
    raw_request(both.port, (f"Bearer {forge.valid()}".encode(),))
    time.sleep(2.5)
    stats = both.stats()
    assert DISAGREEMENTS in stats, f"{DISAGREEMENTS} is not exported: {sorted(k for k in stats if 'jwt_guard' in k)}"
    assert stats[DISAGREEMENTS] == 0
    assert disagreements_logged(both) == 0
    assert stats.get("jwt_guard.allowed", 0) >= len(ALGORITHMS) * 5


def test_host_backend_is_chosen(host):
    host.wait_log(r"signatures: host")


@pytest.mark.parametrize("name", HOST_ALGORITHMS)
def test_host_backend_accepts_genuine_and_refuses_forged_rsa(host, forge, name):
    for _ in range(3):
        resp = raw_request(host.port, (f"Bearer {forge.valid(name)}".encode(),))
        assert resp.status == 200, f"{name}: {resp.status} {resp.body[:200]!r}"
    forged = {
        "bit flip": flip_signature_bit(forge, name, 17),
        "other token's signature": signature_of_other(forge, name, name),
        "truncated": forge.resigned(name, lambda s: s[:-1]),
        "zero": forge.resigned(name, lambda s: bytes(len(s))),
    }
    for what, token in forged.items():
        resp = host.get("/api", token=token)
        assert_invalid_token(resp, token, r"signature")
        assert resp.status == 401, what


@pytest.mark.parametrize("name", ["ps256", "es256", "es384", "eddsa"])
def test_host_backend_leaves_other_algorithms_to_jwt_simple(host, forge, name):
    resp = raw_request(host.port, (f"Bearer {forge.valid(name)}".encode(),))
    assert resp.status == 200, f"{name}: {resp.status} {resp.body[:200]!r}"
    token = flip_signature_bit(forge, name, 3)
    assert_invalid_token(host.get("/api", token=token), token, r"signature")
