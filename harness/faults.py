"""Broken key sets and JWKS endpoint faults, on top of harness.jwks_server (which stays untouched).

broken_documents(): JWKS bodies that parse as HTTP 200 but hold nothing usable, or do not parse at all.
FAULTS / apply_fault(): every way the endpoint can misbehave, applied to one path of a JwksServer.
RecordingJwksServer: a JwksServer that also remembers when each request arrived (to measure retry backoff).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from typing import Callable

from cryptography.hazmat.primitives.asymmetric import ec

from .jwks_server import DEFAULT_PATH, JwksServer
from .keys import SigningKey, b64url, ec_key, rsa_key

TEN_MIB = 10 * 1024 * 1024
HTML_ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
                   b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n")

_cache: dict[str, SigningKey] = {}


def _key(name: str, make: Callable[[], SigningKey]) -> SigningKey:
    if name not in _cache:
        _cache[name] = make()
    return _cache[name]


def _off_curve(jwk: dict) -> dict:
    """The P-256 JWK with y changed by one: the point is no longer on the curve."""
    y = int.from_bytes(json_b64(jwk["y"]), "big")
    return {**jwk, "y": b64url(((y + 1) % (2**256)).to_bytes(32, "big"))}


def json_b64(text: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def broken_documents(good: SigningKey) -> dict[str, bytes]:
    """HTTP 200 bodies from which no usable key can be taken. `good` is a published RSA key whose kid the
    duplicate-kid document reuses."""
    weak = _key("weak", lambda: rsa_key("weak-1024", bits=1024))
    other = _key("other", lambda: rsa_key("other"))
    enc = _key("enc", lambda: rsa_key("enc-1"))
    p256 = _key("p256", lambda: ec_key("ec-bad"))
    weak_jwk = weak.jwk()
    padded_n = b64url(bytes(128) + json_b64(weak_jwk["n"]))  # 1024-bit modulus dressed up as 2048 bits long
    secp256k1 = ec.generate_private_key(ec.SECP256K1()).public_key().public_numbers()
    docs = {
        "keys-empty": {"keys": []},
        "keys-missing": {"kty": "RSA"},
        "keys-not-an-array": {"keys": {"0": good.jwk()}},
        "oct-hmac-key": {"keys": [{"kty": "oct", "kid": good.kid, "alg": "HS256", "k": b64url(b"shared-secret")}]},
        "rsa-oaep-encryption-key": {"keys": [enc.jwk(use="enc", alg="RSA-OAEP")]},
        "rsa-key-ops-encrypt-only": {"keys": [enc.jwk(use=None, alg=None, key_ops=["encrypt", "wrapKey"])]},
        "rsa-1024-bits": {"keys": [weak_jwk]},
        "rsa-1024-bits-zero-padded-modulus": {"keys": [{**weak_jwk, "n": padded_n}]},
        "duplicate-kid": {"keys": [good.jwk(), other.jwk(kid=good.kid)]},
        "ec-point-not-on-curve": {"keys": [_off_curve(p256.jwk())]},
        "ec-coordinates-too-short": {"keys": [{**p256.jwk(), "x": b64url(json_b64(p256.jwk()["x"])[1:])}]},
        "ec-secp256k1": {"keys": [{"kty": "EC", "crv": "secp256k1", "kid": "k1", "alg": "ES256K",
                                   "x": b64url(secp256k1.x.to_bytes(32, "big")),
                                   "y": b64url(secp256k1.y.to_bytes(32, "big"))}]},
        "okp-x25519": {"keys": [{"kty": "OKP", "crv": "X25519", "kid": "x1", "x": b64url(bytes(range(32)))}]},
        "alg-none-key": {"keys": [{**good.jwk(), "alg": "none"}]},
    }
    out = {name: json.dumps(doc).encode() for name, doc in docs.items()}
    out.update({
        "invalid-json": b'{"keys": [{"kty": "RSA", "kid": "rsa-1", "n": "',
        "not-json-object": b'[{"kty": "RSA"}]',
        "html-error-page": HTML_ERROR_PAGE,
        "duplicate-keys-member": b'{"keys": [], "keys": ' + json.dumps([good.jwk()]).encode() + b"}",
    })
    return out


def huge_document() -> bytes:
    """A 10 MiB JSON document (a valid key buried in whitespace)."""
    head = b'{"keys": ['
    return head + b" " * (TEN_MIB - len(head) - 2) + b"]}"


# name -> how to break one path of a JwksServer; `timeout_s` is the callout timeout the fault must outlast.
EndpointFault = Callable[[JwksServer, str, float], None]
ENDPOINT_FAULTS: dict[str, EndpointFault] = {
    "status-500": lambda s, p, t: s.fail("status", status=500, path=p),
    "status-404": lambda s, p, t: s.fail("status", status=404, path=p),
    "status-429": lambda s, p, t: s.fail("status", status=429, path=p),
    "status-503": lambda s, p, t: s.fail("status", status=503, path=p),
    "timeout": lambda s, p, t: s.delay(t + 1.5, path=p),
    "empty-body": lambda s, p, t: s.fail("empty", path=p),
    "garbage-bytes": lambda s, p, t: s.fail("garbage", path=p),
    "html-page": lambda s, p, t: s.fail("html", path=p),
    "ten-mib-body": lambda s, p, t: s.publish_raw(huge_document(), path=p),
}


def all_faults(good: SigningKey) -> dict[str, EndpointFault]:
    """Endpoint faults plus every broken document served with status 200."""
    faults = dict(ENDPOINT_FAULTS)
    for name, body in broken_documents(good).items():
        faults[f"doc-{name}"] = lambda s, p, t, body=body: s.publish_raw(body, path=p)
    return faults


def fault_names() -> list[str]:
    """The names of all_faults(), in order, before any key of the session exists (for test ids)."""
    return list(all_faults(_key("names", lambda: rsa_key("names"))))


class RecordingJwksServer(JwksServer):
    """A JwksServer that keeps the arrival time (time.monotonic()) of every request, per path."""

    def __init__(self):
        self._arrivals: dict[str, list[float]] = defaultdict(list)
        self._arrivals_lock = threading.Lock()
        super().__init__()

    def _on_request(self, path: str, host: str):
        with self._arrivals_lock:
            self._arrivals[path].append(time.monotonic())
        return super()._on_request(path, host)

    def arrivals(self, path: str = DEFAULT_PATH) -> list[float]:
        """Arrival times of the requests on `path`, oldest first."""
        with self._arrivals_lock:
            return list(self._arrivals[path])
