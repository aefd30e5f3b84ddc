"""ES256/ES384 through Envoy's BoringSSL (verify_signature, with the JWS R‖S signature converted to DER).

The attack corpus's dangerous ECDSA inputs (r or s zero or >= n, DER sent as the JWS signature, wrong lengths) run
through `both` in test_differential.py. This adds the input both verifiers must *accept*: the high-S twin (r, n - s)
of a valid signature. ECDSA signatures are malleable and JWS (RFC 7518 §3.4) does not require low S; BoringSSL and
jwt-simple (RustCrypto p256/p384) both accept it, so jwt-guard does too (`auto` is `host` once the self-tests pass).
"""

from __future__ import annotations

import pytest

from harness.hostile import corpus_forge, raw_request, start_with_header_limit
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

SKEW = 60


def config(backend: str) -> dict:
    return plugin(provider("prod"), clock_skew_s=SKEW, token_cache_size=0, signature_backend=backend)


@pytest.fixture(scope="module")
def forge(keys):
    return corpus_forge(keys, issuer_of("prod"), AUDIENCE, SKEW)


@pytest.fixture(scope="module", params=["host", "both"])
def envoy(request, module_launch, every_key_jwks):
    return start_with_header_limit(module_launch, config(request.param), {"jwks": every_key_jwks.port})


def _send(envoy, token: str) -> int:
    return raw_request(envoy.port, (f"Bearer {token}".encode(),)).status


def test_ecdsa_goes_to_the_host(envoy):
    envoy.wait_log(r"signatures: (host \(BoringSSL\) for RS\*/ES256/ES384|both)")


@pytest.mark.parametrize("name", ["es256", "es384"])
def test_high_s_twin_is_accepted_like_the_original(envoy, forge, name):
    assert _send(envoy, forge.valid(name)) == 200
    twin = forge.ecdsa(name, lambda r, s, z, n: r.to_bytes(z, "big") + (n - s).to_bytes(z, "big"))
    assert _send(envoy, twin) == 200


@pytest.mark.parametrize("name", ["es256", "es384"])
def test_forged_ecdsa_is_refused(envoy, forge, name):
    cases = {
        "r + 1": lambda r, s, z, n: (r + 1).to_bytes(z, "big") + s.to_bytes(z, "big"),
        "r = n - 1": lambda r, s, z, n: (n - 1).to_bytes(z, "big") + s.to_bytes(z, "big"),
        "r = s = 0": lambda r, s, z, n: bytes(2 * z),
        "s = n": lambda r, s, z, n: r.to_bytes(z, "big") + n.to_bytes(z, "big"),
        "s + n (overflows the field)": lambda r, s, z, n: r.to_bytes(z, "big") + (s + n).to_bytes(z + 1, "big")[1:],
    }
    for what, make in cases.items():
        assert _send(envoy, forge.ecdsa(name, make)) == 401, what
    assert _send(envoy, forge.ecdsa_der(name)) == 401


def test_no_disagreement(envoy, forge):
    raw_request(envoy.port, (f"Bearer {forge.valid('es256')}".encode(),))
    assert "signature backends disagree" not in envoy.log()
