"""Signing keys, JWK export and hand-built compact JWS tokens (so malformed or hostile tokens can be made)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_CURVES = {"ES256": (ec.SECP256R1, "P-256", 32), "ES384": (ec.SECP384R1, "P-384", 48)}


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWS uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of b64url (accepts missing padding)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _uint(value: int, length: int | None = None) -> str:
    size = length or max(1, (value.bit_length() + 7) // 8)
    return b64url(value.to_bytes(size, "big"))


@dataclass
class SigningKey:
    """A private key with the kid and alg it signs for; `jwk()` gives the public JWK the JWKS server publishes."""

    kid: str
    alg: str
    private: Any

    def sign(self, signing_input: bytes) -> bytes:
        """Signature over `signing_input` in JWS encoding (raw R||S for ECDSA)."""
        alg, bits = self.alg[:2], self.alg[-3:]
        if self.alg == "EdDSA":
            return self.private.sign(signing_input)
        if alg == "HS":
            return hmac.new(self.private, signing_input, getattr(hashlib, f"sha{bits}")).digest()
        if alg == "RS":
            return self.private.sign(signing_input, padding.PKCS1v15(), _HASHES[bits]())
        if alg == "PS":
            pss = padding.PSS(mgf=padding.MGF1(_HASHES[bits]()), salt_length=_HASHES[bits].digest_size)
            return self.private.sign(signing_input, pss, _HASHES[bits]())
        if alg == "ES":
            r, s = decode_dss_signature(self.private.sign(signing_input, ec.ECDSA(_HASHES[bits]())))
            size = (self.private.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        raise ValueError(f"unsupported alg {self.alg}")

    def jwk(self, **overrides: Any) -> dict:
        """Public JWK (kid, kty, alg, use and the key material); `overrides` replace or add members, None drops one."""
        if isinstance(self.private, bytes):
            raise ValueError("symmetric keys are never published")
        pub = self.private.public_key()
        jwk: dict[str, Any] = {"kid": self.kid, "use": "sig", "alg": self.alg}
        if isinstance(pub, rsa.RSAPublicKey):
            numbers = pub.public_numbers()
            jwk.update(kty="RSA", n=_uint(numbers.n), e=_uint(numbers.e))
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            numbers = pub.public_numbers()
            _, crv, size = _CURVES["ES256" if pub.curve.name == "secp256r1" else "ES384"]
            jwk.update(kty="EC", crv=crv, x=_uint(numbers.x, size), y=_uint(numbers.y, size))
        else:
            raw = pub.public_bytes_raw()
            jwk.update(kty="OKP", crv="Ed25519", x=b64url(raw))
        jwk.update(overrides)
        return {k: v for k, v in jwk.items() if v is not None}


def rsa_key(kid: str, alg: str = "RS256", bits: int = 2048) -> SigningKey:
    """New RSA key for RS256/384/512 or PS256/384/512."""
    return SigningKey(kid, alg, rsa.generate_private_key(public_exponent=65537, key_size=bits))


def ec_key(kid: str, alg: str = "ES256") -> SigningKey:
    """New EC key: P-256 for ES256, P-384 for ES384."""
    return SigningKey(kid, alg, ec.generate_private_key(_CURVES[alg][0]()))


def ed25519_key(kid: str) -> SigningKey:
    """New Ed25519 key (alg EdDSA)."""
    return SigningKey(kid, "EdDSA", ed25519.Ed25519PrivateKey.generate())


def hmac_key(secret: bytes, kid: str, alg: str = "HS256") -> SigningKey:
    """An HMAC 'key' for alg-confusion attacks (e.g. the secret is a published public key)."""
    return SigningKey(kid, alg, secret)


def jwks(*keys: SigningKey | dict) -> dict:
    """A JWKS document from signing keys (their public JWKs) or ready JWK dicts."""
    return {"keys": [k.jwk() if isinstance(k, SigningKey) else k for k in keys]}


def claims(issuer: str, audience: str | list, ttl: int = 300, **extra: Any) -> dict:
    """Standard access-token claims (iss, aud, sub, iat, exp now+ttl) plus `extra`; an extra set to None is dropped."""
    now = int(time.time())
    body: dict[str, Any] = {"iss": issuer, "aud": audience, "sub": "auth0|user-1", "iat": now, "exp": now + ttl}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def make_token(
    key: SigningKey | None,
    payload: dict | None,
    header: dict | None = None,
    *,
    omit: tuple[str, ...] = (),
    raw_header: bytes | None = None,
    raw_payload: bytes | None = None,
    signature: bytes | None = None,
) -> str:
    """Compact JWS built by hand.

    The header defaults to {"alg": key.alg, "typ": "JWT", "kid": key.kid}; `header` entries override it and
    names in `omit` are removed. `raw_header` / `raw_payload` replace the JSON encoding of a segment, and
    `signature` replaces the real signature (then `key` may be None).
    """
    hdr: dict[str, Any] = {"alg": key.alg, "typ": "JWT", "kid": key.kid} if key else {}
    hdr.update(header or {})
    for name in omit:
        hdr.pop(name, None)
    header_bytes = raw_header if raw_header is not None else json.dumps(hdr, separators=(",", ":")).encode()
    payload_bytes = raw_payload if raw_payload is not None else json.dumps(payload, separators=(",", ":")).encode()
    signing_input = f"{b64url(header_bytes)}.{b64url(payload_bytes)}"
    if signature is None:
        if key is None:
            raise ValueError("a key or an explicit signature is required")
        signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"
