"""Primitives for forging hostile tokens: a Forge knows the deployment (issuer, audience, published keys, time)
and an attacker's own keys, and builds compact JWS texts byte by byte, so any field, encoding or signature can be
wrong in exactly one way while everything else stays valid."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID

from ..keys import SigningKey, b64url, b64url_decode, ec_key, ed25519_key, rsa_key

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
# Group orders: a valid ECDSA r or s lies in [1, n-1]; an Ed25519 S in [0, L-1].
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P384_N = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
)
ED25519_L = 2**252 + 27742317777372353535851937790883648493
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def compact_json(value: Any) -> bytes:
    """JSON without spaces, as signers emit it."""
    return json.dumps(value, separators=(",", ":")).encode()


def noncanonical(segment: str) -> str:
    """The same bytes with the unused low bits of the last base64url character set (RFC 4648 §3.5); the segment
    length must not be a multiple of 4 (else no bits are spare)."""
    if len(segment) % 4 == 0:
        raise ValueError("segment has no spare bits")
    return segment[:-1] + BASE64URL[BASE64URL.index(segment[-1]) | 1]


def std_alphabet(text: str) -> str:
    """base64url text rewritten in the standard alphabet ('+' and '/')."""
    return text.replace("-", "+").replace("_", "/")


@dataclass
class Attacker:
    """Keys the deployment never publishes."""

    rsa: SigningKey = field(default_factory=lambda: rsa_key("attacker-rsa"))
    ec: SigningKey = field(default_factory=lambda: ec_key("attacker-ec"))
    ed: SigningKey = field(default_factory=lambda: ed25519_key("attacker-ed"))

    @cached_property
    def certificate_der(self) -> bytes:
        """A self-signed certificate for the attacker's RSA key (for x5c)."""
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsa-1")])
        start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.rsa.private.public_key()).serial_number(1)
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=36500))
            .sign(self.rsa.private, hashes.SHA256())
        )  # fmt: skip
        return cert.public_bytes(serialization.Encoding.DER)


class Forge:
    """Builds tokens for one deployment.

    `keys` maps a short name (rs256, rs384, rs512, ps256, es256, es384, eddsa) to the published SigningKey;
    `issuer` and `audience` are what the filter accepts; `now` is the verifier's clock (seconds).
    """

    def __init__(self, keys: dict[str, SigningKey], issuer: str, audience: str, now: int, skew: int,
                 attacker: Attacker):
        self.k = keys
        self.issuer = issuer
        self.audience = audience
        self.now = now
        self.skew = skew
        self.attacker = attacker
        self._serial = 0

    # ---- claims and headers -------------------------------------------------------------------------------
    def claims(self, **overrides: Any) -> dict:
        """Claims the deployment accepts; an override of None drops the claim. A fresh jti keeps tokens distinct."""
        self._serial += 1
        body: dict[str, Any] = {
            "iss": self.issuer, "aud": [self.audience], "sub": "auth0|attack", "iat": self.now - 10,
            "exp": self.now + 600, "scope": "read:items", "jti": f"corpus-{self._serial}",
        }  # fmt: skip
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    @staticmethod
    def header_of(key: SigningKey, **overrides: Any) -> dict:
        """{"alg", "typ", "kid"} of `key`; an override of None drops the member."""
        head: dict[str, Any] = {"alg": key.alg, "typ": "JWT", "kid": key.kid}
        head.update(overrides)
        return {k: v for k, v in head.items() if v is not None}

    # ---- signing ------------------------------------------------------------------------------------------
    @staticmethod
    def sign_text(key: SigningKey, header_segment: str, payload_segment: str, alg: str | None = None) -> str:
        """`header_segment.payload_segment` (taken verbatim, whatever they contain) signed by `key` with `alg`
        (default the key's own alg: RS*/PS*/ES*/EdDSA/HS*), so only what the segments say is wrong."""
        text = f"{header_segment}.{payload_segment}"
        return f"{text}.{b64url(sign_with(key, text.encode(), alg or key.alg))}"

    def token(self, key: SigningKey, header: dict | None = None, payload: dict | None = None, *,
              raw_header: bytes | None = None, raw_payload: bytes | None = None, alg: str | None = None) -> str:
        """A token signed by `key`. `header` defaults to header_of(key) and `payload` to claims(); raw_* replace a
        segment's JSON text; `alg` signs with another algorithm than the key's own (the header is not changed)."""
        head = raw_header if raw_header is not None else compact_json(header if header is not None else self.header_of(key))
        body = raw_payload if raw_payload is not None else compact_json(payload if payload is not None else self.claims())
        return self.sign_text(key, b64url(head), b64url(body), alg)

    def valid(self, name: str = "rs256", **claim_overrides: Any) -> str:
        """A token the deployment accepts, signed by published key `name`."""
        return self.token(self.k[name], payload=self.claims(**claim_overrides))

    def signed_claims(self, name: str = "rs256", **claim_overrides: Any) -> str:
        """Alias of valid() for cases whose claims make the token invalid (reads better in the case table)."""
        return self.valid(name, **claim_overrides)

    def with_header(self, name: str = "rs256", **header_overrides: Any) -> str:
        """Header members changed or added (None drops one), then signed by published key `name`."""
        key = self.k[name]
        return self.token(key, self.header_of(key, **header_overrides))

    def raw(self, name: str = "rs256", header: bytes | None = None, payload: bytes | None = None) -> str:
        """Raw JSON text for the header and/or payload, signed by published key `name`."""
        return self.token(self.k[name], raw_header=header, raw_payload=payload)

    def unsigned(self, alg: Any, signature: bytes = b"", **header_overrides: Any) -> str:
        """A token whose header says `alg` with an arbitrary signature (default: none)."""
        head = {"alg": alg, "typ": "JWT", **header_overrides}
        return f"{b64url(compact_json(head))}.{b64url(compact_json(self.claims()))}.{b64url(signature)}"

    def resigned(self, name: str, signature_of) -> str:
        """A token for published key `name` whose signature bytes are replaced by signature_of(valid_sig_bytes)."""
        text, sig = split_signature(self.valid(name))
        return f"{text}.{b64url(signature_of(sig))}"

    def hmac_confusion(self, secret: bytes, kid: str | None = "rsa-1", alg: str = "HS256") -> str:
        """An HMAC token keyed with `secret` (typically public key material) under `kid`."""
        key = SigningKey(kid or "", alg, secret)
        return self.token(key, self.header_of(key, kid=kid))

    # ---- key material the attacker can read ---------------------------------------------------------------
    def public_pem(self, name: str, fmt: str = "spki") -> bytes:
        """Published key `name` as PEM text (SubjectPublicKeyInfo or, for RSA, PKCS#1)."""
        pub = self.k[name].private.public_key()
        if fmt == "pkcs1":
            return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def public_der(self, name: str) -> bytes:
        """Published key `name` as DER SubjectPublicKeyInfo."""
        return self.k[name].private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def public_jwk_text(self, name: str) -> bytes:
        """Published key `name` as the JWK JSON text of the JWKS."""
        return json.dumps(self.k[name].jwk()).encode()

    def rsa_modulus(self, name: str = "rs256") -> bytes:
        """The RSA modulus as big-endian bytes of the key size."""
        pub = self.k[name].private.public_key()
        return pub.public_numbers().n.to_bytes(pub.key_size // 8, "big")

    # ---- ECDSA and EdDSA signature surgery ----------------------------------------------------------------
    def ecdsa_rs(self, name: str = "es256") -> tuple[str, int, int, int]:
        """(signing input, r, s, coordinate size) of a fresh valid ECDSA token by published key `name`."""
        text, sig = split_signature(self.valid(name))
        size = len(sig) // 2
        return text, int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big"), size

    def ecdsa(self, name: str, make) -> str:
        """A token for published EC key `name` whose signature is make(r, s, size, n) (bytes)."""
        text, r, s, size = self.ecdsa_rs(name)
        n = P256_N if size == 32 else P384_N
        return f"{text}.{b64url(make(r, s, size, n))}"

    def ecdsa_der(self, name: str = "es256") -> str:
        """A valid ECDSA signature, but DER-encoded instead of the raw R‖S of RFC 7518 §3.4."""
        text, r, s, _ = self.ecdsa_rs(name)
        return f"{text}.{b64url(encode_dss_signature(r, s))}"

    def eddsa_s_plus_l(self) -> str:
        """A valid Ed25519 signature with L added to S (the same point equation; RFC 8032 §5.1.7 demands S < L)."""
        text, sig = split_signature(self.valid("eddsa"))
        s = int.from_bytes(sig[32:], "little") + ED25519_L
        return f"{text}.{b64url(sig[:32] + s.to_bytes(32, 'little'))}"

    def rsa_with_leading_zero(self, strip: bool) -> str:
        """A valid RS256 signature whose first byte is 0x00, sent with that byte stripped (strip=True, k-1 octets)
        or with another 0x00 prepended (k+1 octets); RFC 8017 §8.2.2 requires exactly k octets."""
        for _ in range(4096):
            text, sig = split_signature(self.valid("rs256"))
            if sig[0] == 0:
                return f"{text}.{b64url(sig[1:] if strip else bytes(1) + sig)}"
        raise RuntimeError("no RS256 signature with a leading zero byte in 4096 tries")

    def rfc7797_detached(self, name: str = "rs256", crit: bool = True) -> str:
        """An unencoded-payload JWS (b64: false) correctly signed by published key `name` over the raw payload."""
        key = self.k[name]
        head = self.header_of(key, b64=False, **({"crit": ["b64"]} if crit else {}))
        header_segment = b64url(compact_json(head))
        payload = compact_json(self.claims()).decode()
        sig = sign_with(key, f"{header_segment}.{payload}".encode(), key.alg)
        # Detached form (RFC 7797 §5): the payload segment is left empty in the compact serialisation...
        return f"{header_segment}..{b64url(sig)}"

    def rfc7797_attached(self, name: str = "rs256") -> str:
        """... and the attached form: the raw JSON payload (with its quotes and braces) between the dots."""
        key = self.k[name]
        header_segment = b64url(compact_json(self.header_of(key, b64=False, crit=["b64"])))
        payload = compact_json(self.claims()).decode()
        sig = sign_with(key, f"{header_segment}.{payload}".encode(), key.alg)
        return f"{header_segment}.{payload}.{b64url(sig)}"


def split_signature(token: str) -> tuple[str, bytes]:
    """(signing input, decoded signature) of a compact JWS."""
    text, sig = token.rsplit(".", 1)
    return text, b64url_decode(sig)


def sign_with(key: SigningKey, data: bytes, alg: str) -> bytes:
    """`data` signed by `key` under `alg`, which may differ from the key's own (e.g. PKCS#1 v1.5 with a PS key, SHA-384
    with a P-256 key) — the raw material of algorithm-confusion tokens."""
    if alg == key.alg:
        return key.sign(data)
    family, bits = alg[:2], alg[-3:]
    if family == "RS":
        return key.private.sign(data, padding.PKCS1v15(), HASHES[bits]())
    if family == "PS":
        pss = padding.PSS(mgf=padding.MGF1(HASHES[bits]()), salt_length=HASHES[bits].digest_size)
        return key.private.sign(data, pss, HASHES[bits]())
    if family == "ES":
        r, s = decode_dss_signature(key.private.sign(data, ec.ECDSA(HASHES[bits]())))
        size = (key.private.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError(f"cannot sign {alg} with a {key.alg} key")
