"""DPoP proofs (RFC 9449), bound access tokens and mTLS client certificates (RFC 8705), minted with
`cryptography` - not the Rust crates the filter verifies with - so the tests check the filter against an
independent implementation."""

from __future__ import annotations

import datetime
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .keys import SigningKey, b64url, claims, ec_key, make_token

_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


def thumbprint(jwk: dict) -> str:
    """RFC 7638 SHA-256 thumbprint of a public JWK (the value of `cnf.jkt`)."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


def ath(token: str) -> str:
    """base64url(SHA-256(access token)), the proof's `ath`."""
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


@dataclass
class DpopKey:
    """A client's DPoP key pair; `proof()` signs proofs with it."""

    key: SigningKey

    @classmethod
    def generate(cls, alg: str = "ES256") -> "DpopKey":
        """A fresh P-256 (ES256) or P-384 (ES384) key."""
        return cls(ec_key("dpop", alg))

    def public_jwk(self) -> dict:
        """The public JWK a proof carries (no kid, use or alg)."""
        return self.key.jwk(kid=None, use=None, alg=None)

    @property
    def jkt(self) -> str:
        """The thumbprint a bound token's `cnf.jkt` names."""
        return thumbprint(self.public_jwk())

    def proof(
        self,
        method: str,
        url: str,
        token: str | None = None,
        *,
        jti: str | None = None,
        iat: int | None = None,
        nonce: str | None = None,
        header: dict | None = None,
        payload: dict | None = None,
        omit: tuple[str, ...] = (),
        signer: SigningKey | None = None,
    ) -> str:
        """A DPoP proof for `method` `url` bound to `token` (its `ath`); `header` / `payload` entries override
        the defaults (None drops one), `omit` drops header members and `signer` signs with another key."""
        body: dict[str, Any] = {
            "jti": jti or str(uuid.uuid4()),
            "htm": method,
            "htu": url,
            "iat": int(time.time()) if iat is None else iat,
        }
        if token is not None:
            body["ath"] = ath(token)
        if nonce is not None:
            body["nonce"] = nonce
        body.update(payload or {})
        body = {k: v for k, v in body.items() if v is not None}
        hdr: dict[str, Any] = {"typ": "dpop+jwt", "alg": self.key.alg, "jwk": self.public_jwk()}
        hdr.update(header or {})
        hdr = {k: v for k, v in hdr.items() if v is not None and k not in omit}
        return make_token(signer or self.key, body, hdr, omit=("kid",) + omit)


def bound_token(key: SigningKey, issuer: str, audience: str, *, jkt: str | None = None,
                x5t: str | None = None, **extra: Any) -> str:
    """An access token signed by the issuer's `key`, bound by `cnf` to a DPoP key and/or a certificate."""
    cnf = {k: v for k, v in (("jkt", jkt), ("x5t#S256", x5t)) if v is not None}
    return make_token(key, claims(issuer, audience, cnf=cnf, **extra))


@dataclass
class Certificate:
    """A PEM certificate and key on disk, and the RFC 8705 thumbprint of the certificate."""

    cert_path: Path
    key_path: Path
    x5t_s256: str


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Certificate:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    return Certificate(cert_path, key_path, b64url(digest))


class CertificateAuthority:
    """A throw-away CA issuing a server certificate for 127.0.0.1 and client certificates."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(_name("jwt-guard test CA")).issuer_name(_name("jwt-guard test CA"))
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.ca = _write(directory, "ca", self._cert, self._key)

    def issue(self, stem: str, cn: str, *, server: bool) -> Certificate:
        """A leaf certificate signed by the CA (server: for 127.0.0.1 / localhost)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(self._cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if server:
            import ipaddress

            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                             x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        else:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return _write(self.directory, stem, builder.sign(self._key, hashes.SHA256()), key)
