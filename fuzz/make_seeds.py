#!/usr/bin/env python3
"""Writes the fuzz fixtures and seed corpora.

fixtures/keys/*.pem   test-only private keys (generated once, then reused so fixtures stay stable)
fixtures/config.json  the plugin configuration the token target runs: one provider with an inline JWKS of those keys
<out>/<target>/       seeds: the integration attack corpus (harness/corpus), valid tokens for every
                      algorithm, JWKS documents good and broken, configurations, JSON texts and paths
                      (out defaults to fuzz/work/generated, which is not committed; fuzz/seeds holds a small
                      committed sample made with --sample, fuzz/corpus the minimised campaign corpora)

Run with the test venv, from the repository root:  .venv/bin/python -m fuzz.make_seeds [--out DIR] [--sample N] [--fixtures-only]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from harness.corpus import Attacker, Forge, build
from harness.faults import broken_documents
from harness.guard import guard_config
from harness.keys import SigningKey, jwks

FUZZ = Path(__file__).resolve().parent

NOW = 1_900_000_000  # the token target's clock (fuzz_targets/token_verify.rs)
ISSUER = "https://prod.tenant.test/"
AUDIENCE = "https://api.example.test"
SKEW = 60
MAX_SEED_BYTES = 16 * 1024
# name -> (kid, alg, generator)
KEYS = {
    "rs256": ("rsa-1", "RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "rs256_next": ("rsa-2", "RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "rs384": ("rsa-384", "RS384", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "rs512": ("rsa-512", "RS512", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "ps256": ("pss-1", "PS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "es256": ("ec-256", "ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
    "es384": ("ec-384", "ES384", lambda: ec.generate_private_key(ec.SECP384R1())),
    "eddsa": ("ed-1", "EdDSA", ed25519.Ed25519PrivateKey.generate),
}
PATHS = [
    "/", "/api/items", "/admin", "/admin/", "/healthz", "/healthz/../admin", "/healthz/%2e%2e/admin",
    "/healthz/%2E%2E/admin", "//admin", "/./admin", "/a/b/../../admin?x=1#frag", "/%61dmin", "/%2561dmin",
    "/reports/public/../x", "/..", "/../../..", "/a//b///c/", "?x", "#", "/%", "/%zz", "/%c3%a9", "/\u00e9/..",
    "/admin%2Fx", "/admin;x=1", "/a/./b/./c/.", "/a/b/c/..", "/%2e", "/%2e%2e%2f", "", "/%00", "/a\\..\\admin",
    "/public/..%2fadmin", "/public/..;/admin", "/public/%252e%252e/admin", "/ADMIN", "/tenant/x", "/public/x/..",
    "/items\nDELETE", "/items\nget, put", "/healthz/..%5cadmin", "/public/%2e%2e%3b/api/x",
]


def load_keys() -> dict[str, SigningKey]:
    """The fixture keys, generated on first use."""
    folder = FUZZ / "fixtures" / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    keys = {}
    for name, (kid, alg, generate) in KEYS.items():
        path = folder / f"{kid}.pem"
        if not path.exists():
            pem = generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
            path.write_bytes(pem)
        keys[name] = SigningKey(kid, alg, serialization.load_pem_private_key(path.read_bytes(), None))
    return keys


def plugin_config(keys: dict[str, SigningKey]) -> dict:
    """One inline-JWKS provider, the shared deployment's rules and claim headers plus a claims rule and a report-mode
    rule, the bearer header and a cookie as token sources, no token cache."""
    shared = guard_config()
    return {
        "providers": [{"name": "prod", "issuer": ISSUER, "audiences": [AUDIENCE],
                       "jwks": json.dumps(jwks(*keys.values()))}],
        "clock_skew_s": SKEW,
        "max_token_bytes": 8192,
        "token_sources": [{"header": "authorization", "scheme": "Bearer"}, {"cookie": "access_token"}],
        "rules": [{"prefix": "/claims", "claims": [{"claim": "sub", "exists": True},
                                                   {"path": ["https://example.test/org", "tier"], "in": ["gold"]}]},
                  {"prefix": "/report", "mode": "report", "scopes": ["read:report"]}, *shared["rules"]],
        "forward_claims": shared["forward_claims"],
        "forward_payload_header": shared["forward_payload_header"],
        "token_cache_size": 0,
    }


def write_seeds(folder: Path, items: list[bytes], sample: int | None, keep: int = 0) -> int:
    """Write `items` (at most MAX_SEED_BYTES each) named by content hash; with `sample`, only the first `keep` and
    then small ones spread evenly over the rest, `sample` in all."""
    items = [i for i in items if len(i) <= (8192 if sample else MAX_SEED_BYTES)]
    if sample and len(items) > sample:
        rest, room = items[keep:], sample - keep
        items = items[:keep] + [rest[k * len(rest) // room] for k in range(room)]
    folder.mkdir(parents=True, exist_ok=True)
    for item in items:
        (folder / hashlib.sha1(item).hexdigest()).write_bytes(item)
    return len(items)


def segments_json(token: str) -> list[bytes]:
    """The decoded header and payload of a token, when they decode."""
    out = []
    for segment in token.split(".")[:2]:
        try:
            out.append(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        except ValueError:
            pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FUZZ / "work" / "generated")
    parser.add_argument("--sample", type=int, help="keep at most this many small seeds per target")
    parser.add_argument("--fixtures-only", action="store_true")
    args = parser.parse_args()

    keys = load_keys()
    forge = Forge(keys, ISSUER, AUDIENCE, NOW, SKEW, Attacker())
    fixtures = FUZZ / "fixtures"
    config = plugin_config(keys)
    config_path = fixtures / "config.json"
    if not config_path.exists() or json.loads(config_path.read_text()) != config:
        config_path.write_text(json.dumps(config, indent=1) + "\n")
    if args.fixtures_only:
        return
    valid = [forge.valid(name, scope="read:items write:admin") for name in KEYS]

    attacks = build(forge)
    counts = {}
    counts["token_verify"] = write_seeds(args.out / "token_verify", [
        *(f"Bearer {t}".encode() for t in valid),
        *(f"cookie: theme=dark; access_token={t}".encode() for t in valid[:2]),
        *(b"\n".join(a.authorization) for a in attacks),
    ], args.sample, keep=len(valid))
    documents = [json.dumps(jwks(*keys.values())).encode(), *(json.dumps(jwks(k)).encode() for k in keys.values()),
                 *broken_documents(keys["rs256"]).values()]
    counts["jwks_parse"] = write_seeds(args.out / "jwks_parse", documents, args.sample)
    configs = [json.dumps(config).encode(), json.dumps(guard_config()).encode(), b"{}"]
    configs += [json.dumps({**config, "signature_backend": b}).encode() for b in ("auto", "host", "both", "jwt-simple")]
    configs += [json.dumps({"providers": [{"name": "p", "issuer": "https://t/", "audiences": ["a"],
                                           "jwks_cluster": "c", "jwks_uri": "https://t/.well-known/jwks.json",
                                           "algorithms": ["RS256", "ES256"], "refresh_interval_s": 600,
                                           "refetch_cooldown_s": 30, "jwks_timeout_ms": 5000}]}).encode()]
    configs += [json.dumps({  # discovery, issuer lists, profiles, token sources, claim rules, report mode
        "providers": [{"name": "kc", "issuer": "https://sso.test/realms/prod", "audiences": ["api"], "discovery": True,
                       "jwks_cluster": "kc", "discovery_cluster": "kc-meta", "clients": ["spa"], "profile": "rfc9068"},
                      {"name": "a0", "issuers": ["https://login.test/", "https://t.auth0.test/"], "audiences": ["api"],
                       "jwks_cluster": "a0", "profile": "any"}],
        "token_sources": [{"header": "authorization", "scheme": "Bearer"}, {"header": "x-token"}, {"cookie": "at"}],
        "rules": [{"prefix": "/a", "mode": "report", "claims": [
            {"claim": "https://x.test/roles", "contains": "admin"}, {"path": ["org", "tier"], "in": ["gold", 1]},
            {"claim": "email_verified", "equals": True}, {"claim": "ext", "exists": False}]},
            {"prefix": "/b", "mode": "enforce"}]}).encode()]
    counts["config_parse"] = write_seeds(args.out / "config_parse", configs, args.sample)
    json_texts = [t for a in attacks if a.token for t in segments_json(a.token)] + documents + configs
    counts["json_strict"] = write_seeds(args.out / "json_strict", json_texts, args.sample)
    counts["path_requirement"] = write_seeds(args.out / "path_requirement", [p.encode() for p in PATHS], args.sample)
    for target, n in counts.items():
        print(f"{target}: {n} seeds in {args.out / target}")


if __name__ == "__main__":
    main()
