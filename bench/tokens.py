"""The bench's tokens: Auth0-shaped claims signed with harness keys, written one per line to the files wrk
(bench/tokens.lua) and the profiler (bench/profile) read."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from harness.keys import SigningKey, b64url, b64url_decode, ec_key, jwks, make_token, rsa_key

ISSUER = "https://bench-tenant.eu.auth0.com/"
AUDIENCE = "https://api.example.com"
ALGS = ("RS256", "ES256")
DISTINCT = 10_000
INVALID = 1_000  # distinct invalid tokens per invalid workload
# Headers a browser sends with an API call from an SPA, with 2 KiB of cookies.
BROWSER_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-GB,en;q=0.9,de;q=0.8",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Origin": "https://app.example.com",
    "Referer": "https://app.example.com/dashboard",
    "Sec-Fetch-Site": "same-site",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
    "Sec-Ch-Ua": '"Chromium";v="131", "Not_A Brand";v="24"',
    "Cookie": "; ".join(f"c{i}={'v' * 40}" for i in range(48)),
}
# Signature lengths of the algorithms a junk token may name: every asymmetric one jwt-guard knows, and a few it
# refuses.
JUNK_SIGNATURE_BYTES = {"RS256": 256, "RS384": 256, "RS512": 256, "PS256": 256, "PS384": 256, "PS512": 256,
                        "ES256": 64, "ES384": 96, "EdDSA": 64, "HS256": 32, "ES256K": 64, "none": 0}


def signing_key(alg: str, kid: str = "") -> SigningKey:
    """A fresh RSA 2048 (RS256) or P-256 (ES256) key (kid `kid`, else the published one's)."""
    return rsa_key(kid or "bench-rsa-1") if alg == "RS256" else ec_key(kid or "bench-ec-1")


def auth0_claims(i: int, now: int, exp: int) -> dict:
    """Claims shaped like an Auth0 access token (aud array with /userinfo, scope string)."""
    return {
        "iss": ISSUER,
        "sub": f"auth0|bench{i:06d}",
        "aud": [AUDIENCE, ISSUER + "userinfo"],
        "iat": now - 5,
        "exp": exp,
        "scope": "openid profile read:messages",
        "azp": "BenchClientId0123456789",
    }


def feature_claims(now: int) -> dict:
    """Auth0 claims plus RBAC `permissions`, an organisation and an email: ten claims, for the feature cost table's
    `forward_claims` rows and its claims rule."""
    return {**auth0_claims(0, now, now + 3600), "permissions": ["read:messages", "write:messages"],
            "org_id": "org_bench", "email": "bench@example.com"}


def corrupt_signature(token: str) -> str:
    """Flips bits in a decoded signature byte (not in spare base64 bits) and re-encodes."""
    head, payload, sig = token.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[len(raw) // 2] ^= 0x55
    return f"{head}.{payload}.{b64url(bytes(raw))}"


def junk_alg_tokens(key: SigningKey, now: int) -> list[str]:
    """Tokens whose header names the published key's kid with an algorithm the attacker picks, and a random
    signature of that algorithm's length."""
    algs = list(JUNK_SIGNATURE_BYTES)
    out = []
    for i in range(INVALID):
        alg = algs[i % len(algs)]
        out.append(make_token(None, auth0_claims(i, now, now + 3600), {"alg": alg, "typ": "JWT", "kid": key.kid},
                              signature=os.urandom(JUNK_SIGNATURE_BYTES[alg])))
    return out


def mint(out: Path) -> tuple[str, dict]:
    """Writes the JWKS (jwks.json), the browser headers and the token files per algorithm and workload
    (`<alg>-<workload>.txt`; the feature token for RS256 only); returns the JWKS text and the file paths
    (files[alg][workload], files["browser_headers"])."""
    out.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    keys = {alg: signing_key(alg) for alg in ALGS}
    jwks_text = json.dumps(jwks(*keys.values()), separators=(",", ":"))
    (out / "jwks.json").write_text(jwks_text)
    (out / "browser-headers.txt").write_text("".join(f"{k}: {v}\n" for k, v in BROWSER_HEADERS.items()))
    files: dict = {}
    for alg, key in keys.items():
        stranger = signing_key(alg, kid=f"{key.kid}-unpublished")
        valid = [make_token(key, auth0_claims(i, now, now + 3600)) for i in range(DISTINCT)]
        expired = [make_token(key, auth0_claims(i, now - 7200, now - 3600)) for i in range(INVALID)]
        sets = {
            "repeated": valid[:1],
            "distinct": valid,
            "badsig": [corrupt_signature(t) for t in valid[:INVALID]],
            "expired": expired,
            "junkalg": junk_alg_tokens(key, now),
            # Well signed, by a key of the same type whose kid the JWKS does not publish.
            "unknownkid": [make_token(stranger, auth0_claims(i, now, now + 3600)) for i in range(INVALID)],
        }
        if alg == "RS256":
            sets["feature"] = [make_token(key, feature_claims(now))]
        files[alg] = {}
        for name, tokens in sets.items():
            path = out / f"{alg.lower()}-{name}.txt"
            path.write_text("\n".join(tokens) + "\n")
            files[alg][name] = path
    files["browser_headers"] = out / "browser-headers.txt"
    return jwks_text, files

