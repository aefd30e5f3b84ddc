"""The attack corpus: one line per hostile request.

Each line is C(id, expected answer, builder, reference). A builder takes a Forge (corpus/forge.py) and returns either a
token (sent as `Authorization: Bearer <token>`) or H(...) (the exact Authorization header values, str or raw bytes,
possibly several). Every case must be answered 401:
  TOK  - `WWW-Authenticate: Bearer error="invalid_token"`
  REQ  - `WWW-Authenticate: Bearer error="invalid_request"` (not a single well-formed bearer token)
  BARE - the bare `Bearer` challenge (no bearer credentials at all, RFC 6750 §3.1)
  ANY  - any of the three (repeated headers, which Envoy may join with a comma before the filter sees them)
  DTOK, DPROOF - `invalid_token` / `invalid_dpop_proof` on the `WWW-Authenticate: DPoP` challenge (a token under the
         DPoP scheme that cannot be bound, or a bound one without its proof: RFC 9449 §7.1)
References: RFC 8725 (JWT BCP), RFC 7515 (JWS), RFC 7518 (JWA), RFC 7519 (JWT), RFC 7797 (b64), RFC 8032 (EdDSA),
RFC 8017 (PKCS#1), RFC 4648 (base64), RFC 6750 (bearer), and verifier CVEs that shipped the bug.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from typing import Callable

from .forge import Forge, b64url, compact_json, noncanonical, split_signature, std_alphabet

TOK, REQ, BARE, ANY = "invalid_token", "invalid_request", "bare", "any"
DTOK, DPROOF = "dpop:invalid_token", "dpop:invalid_dpop_proof"
# A DPoP key thumbprint (RFC 7638) no test client holds: tokens bound to it can never be used.
FOREIGN_JKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@dataclass(frozen=True)
class H:
    """Explicit Authorization header values (one per header line)."""

    values: tuple[str | bytes, ...]

    def __init__(self, *values: str | bytes):
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class C:
    """One corpus line."""

    id: str
    expect: str
    build: Callable[[Forge], str | H]
    ref: str = ""


def letter_cases(word: str) -> list[str]:
    """Every upper/lower-case spelling of `word` ("none" -> 16 spellings)."""
    return ["".join(p) for p in itertools.product(*({c.lower(), c.upper()} for c in word))]


def obj(*pairs: tuple[str, object], raw_keys: bool = False) -> bytes:
    """A JSON object written member by member, so names may repeat (raw_keys: names are JSON text as given)."""
    members = [(k if raw_keys else json.dumps(k)) + ":" + json.dumps(v) for k, v in pairs]
    return ("{" + ",".join(members) + "}").encode()


def claims_plus(f: Forge, *extra: tuple[str, object], raw_keys: bool = False, **overrides) -> bytes:
    """The accepted claims as JSON text, followed by extra (possibly repeated) members."""
    base = [(json.dumps(k) if raw_keys else k, v) for k, v in f.claims(**overrides).items()]
    return obj(*base, *extra, raw_keys=raw_keys)


def rs_header(*extra: tuple[str, object], raw_keys: bool = False) -> bytes:
    """The rsa-1 RS256 header as JSON text, followed by extra (possibly repeated) members."""
    base = [("alg", "RS256"), ("typ", "JWT"), ("kid", "rsa-1")]
    if raw_keys:
        base = [(json.dumps(k), v) for k, v in base]
    return obj(*base, *extra, raw_keys=raw_keys)


def swap_payload(f: Forge, **claim_overrides) -> str:
    """A valid rsa-1 token whose payload is replaced after signing."""
    header, _, sig = f.valid().split(".")
    return f"{header}.{b64url(compact_json(f.claims(**claim_overrides)))}.{sig}"


def swap_header(f: Forge, **header_overrides) -> str:
    """A valid rsa-1 token whose header is replaced after signing."""
    _, payload, sig = f.valid().split(".")
    return f"{b64url(compact_json(f.header_of(f.k['rs256'], **header_overrides)))}.{payload}.{sig}"


def flip_signature_bit(f: Forge, name: str, index: int) -> str:
    def flip(sig: bytes) -> bytes:
        i = index % len(sig)
        return sig[:i] + bytes([sig[i] ^ 0x01]) + sig[i + 1:]
    return f.resigned(name, flip)


def signature_of_other(f: Forge, name: str, other: str) -> str:
    """Token of key `name` carrying the signature of another valid token (of key `other`)."""
    return f.valid(name).rsplit(".", 1)[0] + "." + f.valid(other).rsplit(".", 1)[1]


def noncanonical_signature(token: str) -> str:
    text, sig = token.rsplit(".", 1)
    return f"{text}.{noncanonical(sig)}"


def padded(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4)


def sign_segments(f: Forge, header: str, payload: str, name: str = "rs256") -> str:
    """Arbitrary header and payload segment text, signed by published key `name` (so only the encoding is wrong)."""
    return Forge.sign_text(f.k[name], header, payload)


def header_with_spare_bits(f: Forge) -> str:
    """An rsa-1 header segment whose length leaves spare bits (len % 4 == 2 or 3)."""
    for pad in range(4):
        segment = b64url(compact_json(f.header_of(f.k["rs256"], **({"x": "a" * pad} if pad else {}))))
        if len(segment) % 4:
            return segment
    raise AssertionError("unreachable")


def header_of_length_mod_4(f: Forge, remainder: int) -> str:
    """An rsa-1 header segment whose length is `remainder` modulo 4."""
    for pad in range(8):
        segment = b64url(compact_json(f.header_of(f.k["rs256"], **({"x": "a" * pad} if pad else {}))))
        if len(segment) % 4 == remainder:
            return segment
    raise AssertionError("unreachable")


def payload_with_spare_bits(f: Forge) -> str:
    for pad in range(4):
        segment = b64url(compact_json(f.claims(**({"x": "a" * pad} if pad else {}))))
        if len(segment) % 4:
            return segment
    raise AssertionError("unreachable")


def std_alphabet_token(f: Forge) -> str:
    """A token whose header and payload use '+' '/' and which is correctly signed over that very text."""
    for n in range(64):
        head = b64url(compact_json(f.header_of(f.k["rs256"])))
        body = b64url(compact_json(f.claims(x="?>?>" * (n + 1))))  # '?>' encodes to '/' and '+' characters
        if std_alphabet(body) != body:
            signed = sign_segments(f, std_alphabet(head), std_alphabet(body))
            text, sig = signed.rsplit(".", 1)
            return f"{text}.{std_alphabet(sig)}"
    raise AssertionError("no '-' or '_' in 64 tries")


def sized(f: Forge, total: int, name: str = "rs256") -> str:
    """A correctly signed token of exactly `total` characters (filler in a claim and, for the lengths base64 cannot
    reach from one segment alone, in a header member)."""
    key = f.k[name]
    for head_pad in range(4):
        header = f.header_of(key, **({"x": "h" * head_pad} if head_pad else {}))
        fill = (total - len(f.token(key, header, f.claims(pad="")))) * 3 // 4
        for extra in range(max(fill - 16, 0), fill + 16):
            candidate = f.token(key, header, f.claims(pad="x" * extra))
            if len(candidate) == total:
                return candidate
    raise AssertionError(f"cannot size a token to {total}")


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def jwe(f: Forge, header: dict) -> str:
    """A JWE-shaped compact serialisation (RFC 7516 §7.1): five base64url segments."""
    return ".".join([b64url(compact_json(header)), b64url(b"\x01" * 256), b64url(b"\x02" * 12),
                     b64url(compact_json(f.claims())), b64url(b"\x03" * 16)])


def x5c(f: Forge) -> list[str]:
    return [base64.b64encode(f.attacker.certificate_der).decode()]


def insert(text: str, position: int, what: str) -> str:
    return text[:position] + what + text[position:]


def raw_bearer(f: Forge, mangle: Callable[[bytes], bytes]) -> H:
    """Authorization bytes `Bearer <valid token>` after mangle(token bytes)."""
    return H(b"Bearer " + mangle(f.valid().encode()))


ATTACKER_JKU = "https://attacker.example/.well-known/jwks.json"
NONE_SPELLINGS = letter_cases("none")

CASES: list[C] = [
    # ---- alg "none" (RFC 8725 §3.1; RFC 7518 §3.6; CVE-2018-1000531, CVE-2022-23540) ----------------------------------
    *[C(f"alg-{v}-no-signature", TOK, lambda f, v=v: f.unsigned(v), "RFC 8725 §3.1") for v in NONE_SPELLINGS],
    *[C(f"alg-{v}-with-rs256-signature", TOK,
        lambda f, v=v: f.unsigned(v, split_signature(f.valid())[1], kid="rsa-1"), "RFC 8725 §3.1")
      for v in NONE_SPELLINGS],
    C("alg-none-two-segments", TOK, lambda f: f.unsigned("none").rstrip("."), "RFC 7519 §6.1"),
    C("alg-missing", TOK, lambda f: f.with_header(alg=None), "RFC 7515 §4.1.1"),
    C("alg-null", TOK, lambda f: f.raw(header=b'{"alg":null,"typ":"JWT","kid":"rsa-1"}'), "RFC 7515 §4.1.1"),
    C("alg-number", TOK, lambda f: f.raw(header=b'{"alg":256,"typ":"JWT","kid":"rsa-1"}'), "RFC 7515 §4.1.1"),
    C("alg-array", TOK, lambda f: f.raw(header=b'{"alg":["RS256"],"typ":"JWT","kid":"rsa-1"}'), "RFC 7515 §4.1.1"),
    C("alg-empty-string", TOK, lambda f: f.with_header(alg=""), "RFC 7515 §4.1.1"),
    C("alg-lower-case-rs256", TOK, lambda f: f.with_header(alg="rs256"), "RFC 7515 §4.1.1 (case-sensitive)"),
    C("alg-rs256-trailing-space", TOK, lambda f: f.with_header(alg="RS256 "), "RFC 7515 §4.1.1"),
    C("alg-es256k-on-p256-key", TOK, lambda f: f.with_header("es256", alg="ES256K"), "RFC 8725 §3.2"),
    C("alg-unknown", TOK, lambda f: f.with_header(alg="XS256"), "RFC 8725 §3.2"),

    # ---- HMAC keyed with public key material (RFC 8725 §2.1/§3.1; CVE-2015-9235, CVE-2016-10555, CVE-2017-11424,
    #      CVE-2023-48223) --------------------------------------------------------------------------------------------
    C("hs256-secret-rsa-pem-spki", TOK, lambda f: f.hmac_confusion(f.public_pem("rs256")), "CVE-2015-9235"),
    C("hs256-secret-rsa-pem-pkcs1", TOK, lambda f: f.hmac_confusion(f.public_pem("rs256", "pkcs1")), "CVE-2017-11424"),
    C("hs256-secret-rsa-pem-no-newline", TOK, lambda f: f.hmac_confusion(f.public_pem("rs256").rstrip()),
      "CVE-2016-10555"),
    C("hs256-secret-rsa-pem-leading-space", TOK, lambda f: f.hmac_confusion(b" " + f.public_pem("rs256")),
      "CVE-2023-48223"),
    C("hs256-secret-rsa-der", TOK, lambda f: f.hmac_confusion(f.public_der("rs256")), "RFC 8725 §2.1"),
    C("hs256-secret-rsa-jwk-json", TOK, lambda f: f.hmac_confusion(f.public_jwk_text("rs256")), "RFC 8725 §2.1"),
    C("hs256-secret-rsa-modulus", TOK, lambda f: f.hmac_confusion(f.rsa_modulus()), "RFC 8725 §2.1"),
    C("hs384-secret-rsa-pem", TOK, lambda f: f.hmac_confusion(f.public_pem("rs256"), alg="HS384"), "RFC 8725 §2.1"),
    C("hs512-secret-rsa-pem", TOK, lambda f: f.hmac_confusion(f.public_pem("rs256"), alg="HS512"), "RFC 8725 §2.1"),
    C("hs256-secret-rsa-pem-no-kid", TOK, lambda f: f.hmac_confusion(f.public_pem("rs256"), kid=None),
      "RFC 8725 §2.1"),
    C("hs256-secret-ec-pem", TOK, lambda f: f.hmac_confusion(f.public_pem("es256"), kid="ec-256"), "RFC 8725 §2.1"),
    C("hs256-secret-ed25519-raw", TOK,
      lambda f: f.hmac_confusion(f.k["eddsa"].private.public_key().public_bytes_raw(), kid="ed-1"), "RFC 8725 §2.1"),
    C("hs256-empty-secret", TOK, lambda f: f.hmac_confusion(b""), "RFC 8725 §3.5"),

    # ---- keys named or carried by the token (RFC 8725 §3.10; RFC 7515 §4.1.2-4.1.6; CVE-2018-0114) -----------------
    C("jwk-attacker-key-own-kid", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, jwk=f.attacker.rsa.jwk())), "CVE-2018-0114"),
    C("jwk-attacker-key-published-kid", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="rsa-1", jwk=f.attacker.rsa.jwk(kid="rsa-1"))),
      "CVE-2018-0114"),
    C("jwk-attacker-key-no-kid", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid=None, jwk=f.attacker.rsa.jwk(kid=None))),
      "CVE-2018-0114"),
    C("jwk-attacker-ec-key", TOK,
      lambda f: f.token(f.attacker.ec, f.header_of(f.attacker.ec, kid="ec-256", jwk=f.attacker.ec.jwk(kid="ec-256"))),
      "CVE-2018-0114"),
    C("jku-attacker-url", TOK, lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, jku=ATTACKER_JKU)),
      "RFC 8725 §3.10"),
    C("jku-attacker-url-published-kid", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="rsa-1", jku=ATTACKER_JKU)), "RFC 8725 §3.10"),
    C("x5u-attacker-url", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid=None, x5u="https://attacker.example/c.pem")),
      "RFC 8725 §3.10"),
    C("x5c-self-signed-no-kid", TOK, lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid=None, x5c=x5c(f))),
      "RFC 7515 §4.1.6"),
    C("x5c-self-signed-published-kid", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="rsa-1", x5c=x5c(f))), "RFC 7515 §4.1.6"),
    C("jwk-jku-x5u-x5c-together", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="rsa-1", jwk=f.attacker.rsa.jwk(kid="rsa-1"),
                                                    jku=ATTACKER_JKU, x5u=ATTACKER_JKU, x5c=x5c(f))), "RFC 8725 §3.10"),

    # ---- kid as an injection vector (RFC 8725 §3.10: kid is an opaque string) ---------------------------------------
    C("kid-path-traversal-hs256-empty-secret", TOK, lambda f: f.hmac_confusion(b"", kid="../../../../../../dev/null"),
      "RFC 8725 §3.10"),
    C("kid-path-traversal-attacker-rsa", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="../../../../etc/passwd")), "RFC 8725 §3.10"),
    C("kid-absolute-path-hs256", TOK, lambda f: f.hmac_confusion(b"", kid="/dev/null"), "RFC 8725 §3.10"),
    C("kid-sql-or-true", TOK, lambda f: f.hmac_confusion(b"", kid="' OR '1'='1"), "RFC 8725 §3.10"),
    C("kid-sql-union-secret", TOK,
      lambda f: f.hmac_confusion(b"attacker-secret", kid="x' UNION SELECT 'attacker-secret' -- "), "RFC 8725 §3.10"),
    C("kid-sql-comment-attacker-rsa", TOK,
      lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="rsa-1' --")), "RFC 8725 §3.10"),
    C("kid-shell-pipe", TOK, lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="rsa-1|cat /etc/passwd")),
      "RFC 8725 §3.10"),
    C("kid-url", TOK, lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid=ATTACKER_JKU)), "RFC 8725 §3.10"),
    C("kid-nul-suffix-real-signature", TOK, lambda f: f.with_header(kid="rsa-1\u0000"), "RFC 7515 §4.1.4"),
    C("kid-other-case-real-signature", TOK, lambda f: f.with_header(kid="RSA-1"), "RFC 7515 §4.1.4"),
    C("kid-trailing-space-real-signature", TOK, lambda f: f.with_header(kid="rsa-1 "), "RFC 7515 §4.1.4"),
    C("kid-empty-real-signature", TOK, lambda f: f.with_header(kid=""), "RFC 7515 §4.1.4"),
    C("kid-very-long-real-signature", TOK, lambda f: f.with_header(kid="rsa-1" + "x" * 400), "RFC 7515 §4.1.4"),
    C("kid-number", TOK, lambda f: f.raw(header=b'{"alg":"RS256","typ":"JWT","kid":1}'), "RFC 7515 §4.1.4"),
    C("kid-object", TOK, lambda f: f.raw(header=b'{"alg":"RS256","typ":"JWT","kid":{"$ne":""}}'), "RFC 7515 §4.1.4"),
    C("kid-array", TOK, lambda f: f.raw(header=b'{"alg":"RS256","typ":"JWT","kid":["rsa-1"]}'), "RFC 7515 §4.1.4"),

    # ---- crit and unencoded payloads (RFC 7515 §4.1.11; RFC 7797 §6) --------------------------------------------
    C("crit-exp", TOK, lambda f: f.with_header(crit=["exp"]), "RFC 7515 §4.1.11"),
    C("crit-unknown-extension", TOK, lambda f: f.with_header(crit=["x-ext"], **{"x-ext": 1}), "RFC 7515 §4.1.11"),
    C("crit-empty-array", TOK, lambda f: f.with_header(crit=[]), "RFC 7515 §4.1.11"),
    C("crit-string", TOK, lambda f: f.with_header(crit="exp"), "RFC 7515 §4.1.11"),
    C("b64-false-with-crit-encoded-payload", TOK, lambda f: f.with_header(b64=False, crit=["b64"]), "RFC 7797 §3"),
    C("b64-false-without-crit", TOK, lambda f: f.with_header(b64=False), "RFC 7797 §6"),
    C("b64-true-with-crit", TOK, lambda f: f.with_header(b64=True, crit=["b64"]), "RFC 7797 §3"),
    C("b64-false-detached-signed-over-raw-payload", TOK, lambda f: f.rfc7797_detached(), "RFC 7797 §5"),
    C("b64-false-attached-raw-json-payload", REQ, lambda f: f.rfc7797_attached(), "RFC 7797 §5"),

    # ---- alg / key type mismatch (RFC 8725 §3.1; RFC 7517 §4.4) -----------------------------------------------------
    C("es256-on-rsa-kid-attacker-key", TOK, lambda f: f.token(f.attacker.ec, f.header_of(f.attacker.ec, kid="rsa-1")),
      "RFC 8725 §3.1"),
    C("es256-on-rsa-kid-published-ec-signature", TOK, lambda f: f.token(f.k["es256"], f.header_of(f.k["es256"], kid="rsa-1")),
      "RFC 8725 §3.1"),
    C("rs256-with-ps256-key", TOK, lambda f: f.token(f.k["ps256"], f.header_of(f.k["ps256"], alg="RS256"), alg="RS256"),
      "RFC 7517 §4.4"),
    C("ps256-with-rs256-key", TOK, lambda f: f.token(f.k["rs256"], f.header_of(f.k["rs256"], alg="PS256"), alg="PS256"),
      "RFC 7517 §4.4"),
    C("rs384-with-rs256-key", TOK, lambda f: f.token(f.k["rs256"], f.header_of(f.k["rs256"], alg="RS384"), alg="RS384"),
      "RFC 7517 §4.4"),
    C("rs512-with-rs384-key", TOK, lambda f: f.token(f.k["rs384"], f.header_of(f.k["rs384"], alg="RS512"), alg="RS512"),
      "RFC 7517 §4.4"),
    C("rs256-with-rs512-key", TOK, lambda f: f.token(f.k["rs512"], f.header_of(f.k["rs512"], alg="RS256"), alg="RS256"),
      "RFC 7517 §4.4"),
    C("ps384-with-ps256-key", TOK, lambda f: f.token(f.k["ps256"], f.header_of(f.k["ps256"], alg="PS384"), alg="PS384"),
      "RFC 7517 §4.4"),
    C("es384-with-p256-key", TOK, lambda f: f.token(f.k["es256"], f.header_of(f.k["es256"], alg="ES384"), alg="ES384"),
      "RFC 7518 §3.4"),
    C("es256-with-p384-key", TOK, lambda f: f.token(f.k["es384"], f.header_of(f.k["es384"], alg="ES256"), alg="ES256"),
      "RFC 7518 §3.4"),
    C("eddsa-on-ec-kid", TOK, lambda f: f.token(f.attacker.ed, f.header_of(f.attacker.ed, kid="ec-256")), "RFC 8725 §3.1"),
    C("eddsa-on-rsa-kid", TOK, lambda f: f.token(f.attacker.ed, f.header_of(f.attacker.ed, kid="rsa-1")), "RFC 8725 §3.1"),
    C("es256-on-ed25519-kid", TOK, lambda f: f.token(f.attacker.ec, f.header_of(f.attacker.ec, kid="ed-1")),
      "RFC 8725 §3.1"),
    C("rs256-on-ec-kid", TOK, lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="ec-256")),
      "RFC 8725 §3.1"),
    C("rs256-on-ed25519-kid", TOK, lambda f: f.token(f.attacker.rsa, f.header_of(f.attacker.rsa, kid="ed-1")),
      "RFC 8725 §3.1"),

    # ---- ECDSA signature encoding and range (RFC 7518 §3.4; CVE-2022-21449) -----------------------------------------
    C("es256-r0-s0", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: bytes(2 * z)), "CVE-2022-21449"),
    C("es256-r0", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: bytes(z) + s.to_bytes(z, "big")), "CVE-2022-21449"),
    C("es256-s0", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: r.to_bytes(z, "big") + bytes(z)), "CVE-2022-21449"),
    C("es256-r-s-equal-n", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: n.to_bytes(z, "big") * 2),
      "CVE-2022-21449"),
    C("es256-r-equal-n", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: n.to_bytes(z, "big") + s.to_bytes(z, "big")),
      "RFC 7518 §3.4"),
    C("es256-s-equal-n", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: r.to_bytes(z, "big") + n.to_bytes(z, "big")),
      "RFC 7518 §3.4"),
    C("es256-r-all-ones", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: b"\xff" * z + s.to_bytes(z, "big")),
      "RFC 7518 §3.4"),
    C("es256-s-all-ones", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: r.to_bytes(z, "big") + b"\xff" * z),
      "RFC 7518 §3.4"),
    C("es256-r-s-swapped", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: s.to_bytes(z, "big") + r.to_bytes(z, "big")),
      "RFC 7518 §3.4"),
    C("es256-der-encoded", TOK, lambda f: f.ecdsa_der("es256"), "RFC 7518 §3.4"),
    C("es256-der-r0-s0", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: bytes.fromhex("3006020100020100")),
      "CVE-2022-21449"),
    C("es256-63-bytes", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: (r.to_bytes(z, "big") + s.to_bytes(z, "big"))[:-1]),
      "RFC 7518 §3.4"),
    C("es256-65-bytes", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: r.to_bytes(z, "big") + s.to_bytes(z, "big") + b"\0"),
      "RFC 7518 §3.4"),
    C("es256-66-bytes-zero-extended", TOK,
      lambda f: f.ecdsa("es256", lambda r, s, z, n: r.to_bytes(z + 1, "big") + s.to_bytes(z + 1, "big")), "RFC 7518 §3.4"),
    C("es256-96-bytes", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: r.to_bytes(48, "big") + s.to_bytes(48, "big")),
      "RFC 7518 §3.4"),
    C("es256-32-bytes-r-only", TOK, lambda f: f.ecdsa("es256", lambda r, s, z, n: r.to_bytes(z, "big")), "RFC 7518 §3.4"),
    C("es384-r0-s0", TOK, lambda f: f.ecdsa("es384", lambda r, s, z, n: bytes(2 * z)), "CVE-2022-21449"),
    C("es384-r-s-equal-n", TOK, lambda f: f.ecdsa("es384", lambda r, s, z, n: n.to_bytes(z, "big") * 2), "RFC 7518 §3.4"),
    C("es384-der-encoded", TOK, lambda f: f.ecdsa_der("es384"), "RFC 7518 §3.4"),
    C("es384-64-bytes", TOK, lambda f: f.ecdsa("es384", lambda r, s, z, n: (r.to_bytes(z, "big") + s.to_bytes(z, "big"))[:64]),
      "RFC 7518 §3.4"),

    # ---- EdDSA (RFC 8032 §5.1.7; RFC 8037) -------------------------------------------------------------------------
    C("eddsa-zero-signature", TOK, lambda f: f.resigned("eddsa", lambda s: bytes(64)), "RFC 8032 §5.1.7"),
    C("eddsa-s-plus-group-order", TOK, lambda f: f.eddsa_s_plus_l(), "RFC 8032 §5.1.7"),
    C("eddsa-identity-r-zero-s", TOK, lambda f: f.resigned("eddsa", lambda s: b"\x01" + bytes(63)), "RFC 8032 §5.1.7"),
    C("eddsa-63-bytes", TOK, lambda f: f.resigned("eddsa", lambda s: s[:-1]), "RFC 8032 §5.1.7"),

    # ---- RSA signature bytes (RFC 8017 §8.2.2; CVE-2020-28042) -----------------------------------------------------
    C("rs256-signature-stripped", TOK, lambda f: f.valid().rsplit(".", 1)[0] + ".", "CVE-2020-28042"),
    C("rs256-signature-segment-missing", TOK, lambda f: f.valid().rsplit(".", 1)[0], "RFC 7515 §7.1"),
    C("rs256-signature-one-zero-byte", TOK, lambda f: f.resigned("rs256", lambda s: b"\0"), "CVE-2020-28042"),
    C("rs256-signature-all-zero", TOK, lambda f: f.resigned("rs256", lambda s: bytes(len(s))), "RFC 8017 §8.2.2"),
    C("rs256-signature-one", TOK, lambda f: f.resigned("rs256", lambda s: (1).to_bytes(len(s), "big")), "RFC 8017 §5.2.2"),
    C("rs256-signature-equals-modulus", TOK, lambda f: f.resigned("rs256", lambda s: f.rsa_modulus()), "RFC 8017 §5.2.2"),
    C("rs256-signature-plus-modulus", TOK,
      lambda f: f.resigned("rs256", lambda s: (int.from_bytes(s, "big") + int.from_bytes(f.rsa_modulus(), "big"))
                           .to_bytes(len(s) + 1, "big")), "RFC 8017 §8.2.2"),
    C("rs256-signature-all-ones", TOK, lambda f: f.resigned("rs256", lambda s: b"\xff" * len(s)), "RFC 8017 §5.2.2"),
    C("rs256-signature-truncated", TOK, lambda f: f.resigned("rs256", lambda s: s[:-1]), "RFC 8017 §8.2.2"),
    C("rs256-signature-extended", TOK, lambda f: f.resigned("rs256", lambda s: s + b"\0"), "RFC 8017 §8.2.2"),
    C("rs256-signature-leading-zero-stripped", TOK, lambda f: f.rsa_with_leading_zero(strip=True), "RFC 8017 §8.2.2"),
    C("rs256-signature-extra-leading-zero", TOK, lambda f: f.rsa_with_leading_zero(strip=False), "RFC 8017 §8.2.2"),
    C("rs256-signature-doubled", TOK, lambda f: f.resigned("rs256", lambda s: s + s), "RFC 8017 §8.2.2"),

    # ---- tampering after signing (RFC 7515 §5.2) --------------------------------------------------------------------
    *[C(f"{name}-signature-bit-flip-{where}", TOK, lambda f, name=name, i=i: flip_signature_bit(f, name, i),
        "RFC 7515 §5.2") for name in ("rs256", "rs384", "rs512", "ps256", "es256", "es384", "eddsa")
      for where, i in (("first", 0), ("last", -1))],
    *[C(f"{name}-signature-of-another-token", TOK, lambda f, name=name: signature_of_other(f, name, name), "RFC 7515 §5.2")
      for name in ("rs256", "rs384", "rs512", "ps256", "es256", "es384", "eddsa")],
    C("rs256-signature-of-another-key", TOK, lambda f: signature_of_other(f, "rs256", "rs256_next"), "RFC 7515 §5.2"),
    C("tampered-payload-sub", TOK, lambda f: swap_payload(f, sub="auth0|admin"), "RFC 7515 §5.2"),
    C("tampered-payload-scope", TOK, lambda f: swap_payload(f, scope="read:items write:admin"), "RFC 7515 §5.2"),
    C("tampered-payload-exp", TOK, lambda f: swap_payload(f, exp=f.now + 10 * 365 * 86400), "RFC 7515 §5.2"),
    C("tampered-header-kid-other-rs256-key", TOK, lambda f: swap_header(f, kid="rsa-2"), "RFC 7515 §5.2"),
    C("tampered-header-typ", TOK, lambda f: swap_header(f, typ="at+jwt"), "RFC 7515 §5.2"),
    C("tampered-header-extra-member", TOK, lambda f: swap_header(f, x="y"), "RFC 7515 §5.2"),
    C("tampered-header-alg-rs384", TOK, lambda f: swap_header(f, alg="RS384", kid="rsa-384"), "RFC 7515 §5.2"),

    # ---- segment structure (RFC 7515 §7.1; RFC 7516 §7.1; RFC 7519 §7.2) -------------------------------------------
    C("jwe-rsa-oaep-five-segments", TOK, lambda f: jwe(f, {"alg": "RSA-OAEP", "enc": "A256GCM", "kid": "rsa-1"}),
      "RFC 7516 §7.1"),
    C("jwe-dir-five-segments", TOK, lambda f: jwe(f, {"alg": "dir", "enc": "A128CBC-HS256"}), "RFC 7516 §7.1"),
    C("jwe-shaped-valid-jws-plus-two", TOK, lambda f: f.valid() + ".AAAA.AAAA", "RFC 7516 §9"),
    C("five-empty-segments", TOK, lambda f: "....", "RFC 7519 §7.2"),
    C("four-segments", TOK, lambda f: f.valid() + ".AAAA", "RFC 7515 §7.1"),
    C("four-segments-trailing-dot", TOK, lambda f: f.valid() + ".", "RFC 7515 §7.1"),
    C("one-segment", TOK, lambda f: f.valid().split(".")[0], "RFC 7515 §7.1"),
    C("empty-header-segment", TOK, lambda f: "." + f.valid().split(".", 1)[1], "RFC 7515 §7.1"),
    C("empty-payload-signed", TOK, lambda f: sign_segments(f, b64url(compact_json(f.header_of(f.k["rs256"]))), ""),
      "RFC 7519 §7.2"),
    C("two-tokens-joined", TOK, lambda f: f.valid() + "." + f.valid(), "RFC 7515 §7.1"),
    C("thousands-of-segments", TOK, lambda f: "a." * 3000 + "a", "RFC 7515 §7.1"),
    C("thousands-of-dots", TOK, lambda f: "." * 6000, "RFC 7515 §7.1"),
    C("opaque-access-token", TOK, lambda f: "8uJhyXw3-9fnVbTzq2LrQk0aP4sDdEeF", "RFC 6749 §1.4"),

    # ---- base64url strictness (RFC 7515 §2; RFC 4648 §3.2, §3.5, §5) -----------------------------------------------
    C("padding-on-signature", TOK, lambda f: f.valid() + "==", "RFC 7515 §2"),
    C("padding-on-header-resigned", REQ,
      lambda f: sign_segments(f, padded(header_with_spare_bits(f)), b64url(compact_json(f.claims()))), "RFC 7515 §2"),
    C("padding-on-payload-resigned", REQ,
      lambda f: sign_segments(f, b64url(compact_json(f.header_of(f.k["rs256"]))), padded(payload_with_spare_bits(f))),
      "RFC 7515 §2"),
    C("non-canonical-header-resigned", TOK,
      lambda f: sign_segments(f, noncanonical(header_with_spare_bits(f)), b64url(compact_json(f.claims()))),
      "RFC 4648 §3.5"),
    C("non-canonical-payload-resigned", TOK,
      lambda f: sign_segments(f, b64url(compact_json(f.header_of(f.k["rs256"]))), noncanonical(payload_with_spare_bits(f))),
      "RFC 4648 §3.5"),
    *[C(f"non-canonical-{name}-signature", TOK, lambda f, name=name: noncanonical_signature(f.valid(name)), "RFC 4648 §3.5")
      for name in ("rs256", "es256", "eddsa")],  # ES384 signatures (96 bytes) have no spare bits
    C("standard-alphabet-resigned", TOK, lambda f: std_alphabet_token(f), "RFC 4648 §5"),
    C("segment-length-mod-4-is-1", TOK, lambda f: sign_segments(f, header_of_length_mod_4(f, 0) + "A",
                                                                b64url(compact_json(f.claims()))), "RFC 4648 §4"),
    C("tilde-in-signature", TOK, lambda f: f.valid() + "~", "RFC 4648 §5"),
    C("space-inside-token", REQ, lambda f: insert(f.valid(), 30, " "), "RFC 6750 §2.1"),
    C("tab-inside-token", REQ, lambda f: insert(f.valid(), 30, "\t"), "RFC 6750 §2.1"),
    C("percent-encoded-dots", REQ, lambda f: f.valid().replace(".", "%2E"), "RFC 6750 §2.1"),
    C("asterisk-inside-token", REQ, lambda f: insert(f.valid(), 30, "*"), "RFC 6750 §2.1"),
    C("backslash-inside-token", REQ, lambda f: insert(f.valid(), 30, "\\"), "RFC 6750 §2.1"),
    C("quoted-token", REQ, lambda f: '"' + f.valid() + '"', "RFC 6750 §2.1"),
    C("jws-json-serialization", REQ, lambda f: json.dumps(dict(zip(("protected", "payload", "signature"),
                                                                   f.valid().split(".")))), "RFC 7515 §7.2"),
    C("compact-json-polyglot", REQ,
      lambda f: '{"' + f.valid() + '":"","protected":"' + f.valid().split(".")[0] + '","payload":"x","signature":"y"}',
      "CVE-2022-39227"),

    # ---- duplicate member names (RFC 7515 §4; RFC 7519 §4; RFC 8725 §2.6) -----------------------------------------
    C("header-two-alg-none-last", TOK, lambda f: f.raw(header=rs_header(("alg", "none"))), "RFC 7515 §4; RFC 8725 §2.6"),
    C("header-two-alg-rs256-last", TOK,
      lambda f: f.raw(header=obj(("alg", "none"), ("typ", "JWT"), ("kid", "rsa-1"), ("alg", "RS256"))), "RFC 7515 §4; RFC 8725 §2.6"),
    C("header-two-alg-hs256-last", TOK, lambda f: f.raw(header=rs_header(("alg", "HS256"))), "RFC 7515 §4; RFC 8725 §2.6"),
    C("header-two-kid", TOK, lambda f: f.raw(header=rs_header(("kid", "attacker"))), "RFC 7515 §4; RFC 8725 §2.6"),
    C("header-alg-escaped-duplicate", TOK, lambda f: f.raw(header=rs_header(('"\\u0061lg"', "none"), raw_keys=True)),
      "RFC 7515 §4; RFC 8725 §2.6"),
    C("payload-two-exp-past-last", TOK, lambda f: f.raw(payload=claims_plus(f, ("exp", f.now - 86400))), "RFC 7519 §4"),
    C("payload-two-exp-future-last", TOK,
      lambda f: f.raw(payload=claims_plus(f, ("exp", f.now + 600), exp=f.now - 86400)), "RFC 7519 §4"),
    C("payload-two-iss", TOK, lambda f: f.raw(payload=claims_plus(f, ("iss", "https://evil.tenant.test/"))),
      "RFC 7519 §4"),
    C("payload-two-aud", TOK, lambda f: f.raw(payload=claims_plus(f, ("aud", "https://other.api.test"))), "RFC 7519 §4"),
    C("payload-two-sub", TOK, lambda f: f.raw(payload=claims_plus(f, ("sub", "auth0|admin"))), "RFC 7519 §4"),
    C("payload-two-scope", TOK, lambda f: f.raw(payload=claims_plus(f, ("scope", "write:admin"))), "RFC 7519 §4"),
    C("payload-exp-escaped-duplicate", TOK,
      lambda f: f.raw(payload=claims_plus(f, ('"\\u0065xp"', f.now - 86400), raw_keys=True)), "RFC 7519 §4"),

    # ---- not a JSON object (RFC 7515 §5.2 step 3-4; RFC 7519 §7.2 step 10; RFC 8259) ------------------------------
    *[C(f"header-{what}", TOK, lambda f, text=text: f.raw(header=text), "RFC 7515 §5.2") for what, text in [
        ("array", b'["RS256"]'), ("string", b'"RS256"'), ("number", b"256"), ("null", b"null"), ("true", b"true"),
        ("empty", b""), ("trailing-garbage", rs_header() + b"x"), ("trailing-comma", rs_header()[:-1] + b",}"),
        ("single-quotes", b"{'alg':'RS256','kid':'rsa-1'}"), ("byte-order-mark", b"\xef\xbb\xbf" + rs_header()),
        ("comment", b'{"alg":"RS256",/*x*/"kid":"rsa-1"}'), ("invalid-utf8", b'{"alg":"RS256","kid":"rsa-1\xff"}'),
        ("two-objects", rs_header() + rs_header()), ("nested-2000-arrays", rs_header(("x", 0))[:-2] + nested(2000).encode() + b"}"),
        ("nested-500-objects", rs_header(("x", 0))[:-2] + (b'{"a":' * 500) + b"1" + b"}" * 501),
        ("lone-surrogate", b'{"alg":"RS256","kid":"\\ud800"}'), ("nul-in-string", b'{"alg":"RS256\\u0000","kid":"rsa-1"}'),
    ]],
    *[C(f"payload-{what}", TOK, lambda f, build=build: f.raw(payload=build(f)), "RFC 7519 §7.2") for what, build in [
        ("array", lambda f: b"[1,2]"), ("string", lambda f: b'"claims"'), ("number", lambda f: b"1"),
        ("null", lambda f: b"null"), ("empty", lambda f: b""), ("empty-object", lambda f: b"{}"),
        ("trailing-garbage", lambda f: claims_plus(f) + b"x"), ("two-objects", lambda f: claims_plus(f) * 2),
        ("byte-order-mark", lambda f: b"\xef\xbb\xbf" + claims_plus(f)),
        ("invalid-utf8", lambda f: claims_plus(f)[:-1] + b',"name":"\xc3\x28"}'),
        ("lone-surrogate", lambda f: claims_plus(f)[:-1] + b',"name":"\\udc00"}'),
        ("json-in-a-string", lambda f: json.dumps(claims_plus(f).decode()).encode()),
        ("nan", lambda f: claims_plus(f, exp=None)[:-1] + b',"exp":NaN}'),
        ("infinity", lambda f: claims_plus(f, exp=None)[:-1] + b',"exp":Infinity}'),
        ("exp-1e400", lambda f: claims_plus(f, exp=None)[:-1] + b',"exp":1e400}'),
        ("nested-2000-arrays", lambda f: claims_plus(f)[:-1] + b',"x":' + nested(2000).encode() + b"}"),
        ("nested-500-objects", lambda f: claims_plus(f)[:-1] + b',"x":' + b'{"a":' * 500 + b"1" + b"}" * 501),
    ]],

    # ---- claims of the wrong type (RFC 7519 §2 NumericDate/StringOrURI, §4.1) --------------------------------------
    *[C(f"claim-{claim}-{label}", TOK, lambda f, claim=claim, value=value: f.signed_claims(**{claim: value(f)}),
        "RFC 7519 §4.1") for claim, label, value in [
        ("exp", "string", lambda f: str(f.now + 600)), ("exp", "float", lambda f: f.now + 600.5),
        ("exp", "negative", lambda f: -1), ("exp", "beyond-2106", lambda f: 2**32 + f.now),
        ("exp", "1e30", lambda f: 1e30), ("exp", "bool", lambda f: True),
        ("exp", "array", lambda f: [f.now + 600]), ("exp", "object", lambda f: {"$gt": 0}),
        ("nbf", "string", lambda f: str(f.now - 10)), ("iat", "string", lambda f: str(f.now - 10)),
        ("iat", "float", lambda f: f.now - 9.5), ("aud", "number", lambda f: 42),
        ("aud", "object", lambda f: {"aud": f.audience}), ("aud", "array-with-number", lambda f: [f.audience, 7]),
        ("aud", "nested-array", lambda f: [[f.audience]]), ("aud", "bool", lambda f: True),
        ("iss", "number", lambda f: 1), ("iss", "array", lambda f: [f.issuer]), ("iss", "object", lambda f: {"iss": f.issuer}),
        ("sub", "number", lambda f: 12345), ("scope", "array", lambda f: ["read:items"]),
        ("permissions", "string", lambda f: "read:items"), ("jti", "number", lambda f: 5),
    ]],
    C("claim-exp-null", TOK, lambda f: f.raw(payload=claims_plus(f, exp=None)[:-1] + b',"exp":null}'), "RFC 7519 §4.1.4"),
    C("claim-aud-null", TOK, lambda f: f.raw(payload=claims_plus(f, aud=None)[:-1] + b',"aud":null}'), "RFC 7519 §4.1.3"),
    C("claim-iss-null", TOK, lambda f: f.raw(payload=claims_plus(f, iss=None)[:-1] + b',"iss":null}'), "RFC 7519 §4.1.1"),

    # ---- time (RFC 7519 §4.1.4-4.1.6) ------------------------------------------------------------------------------
    C("exp-missing", TOK, lambda f: f.signed_claims(exp=None), "RFC 9068 §2.2 (exp required)"),
    C("exp-past-beyond-skew", TOK, lambda f: f.signed_claims(exp=f.now - f.skew - 15, iat=f.now - 3600), "RFC 7519 §4.1.4"),
    C("exp-one-day-ago", TOK, lambda f: f.signed_claims(exp=f.now - 86400, iat=f.now - 90000), "RFC 7519 §4.1.4"),
    C("exp-zero", TOK, lambda f: f.signed_claims(exp=0, iat=None), "RFC 7519 §4.1.4"),
    C("nbf-future-beyond-skew", TOK, lambda f: f.signed_claims(nbf=f.now + f.skew + 30), "RFC 7519 §4.1.5"),
    C("nbf-far-future", TOK, lambda f: f.signed_claims(nbf=f.now + 10 * 365 * 86400, exp=f.now + 11 * 365 * 86400),
      "RFC 7519 §4.1.5"),
    C("iat-far-future", TOK, lambda f: f.signed_claims(iat=f.now + 10 * 365 * 86400, exp=f.now + 11 * 365 * 86400),
      "RFC 7519 §4.1.6"),
    C("iat-u32-max", TOK, lambda f: f.signed_claims(iat=2**32 - 1, exp=2**32 - 1), "RFC 7519 §4.1.6"),
    C("iat-future-beyond-skew", TOK, lambda f: f.signed_claims(iat=f.now + f.skew + 60), "RFC 7519 §4.1.6"),

    # ---- issuer (RFC 7519 §4.1.1; RFC 8725 §3.8) --------------------------------------------------------------------
    *[C(f"iss-{label}", TOK, lambda f, value=value: f.signed_claims(iss=value(f)), "RFC 8725 §3.8") for label, value in [
        ("other-tenant", lambda f: "https://evil.tenant.test/"), ("without-trailing-slash", lambda f: f.issuer.rstrip("/")),
        ("double-trailing-slash", lambda f: f.issuer + "/"), ("upper-case", lambda f: f.issuer.upper()),
        ("http-scheme", lambda f: f.issuer.replace("https://", "http://")), ("suffix", lambda f: f.issuer + "x"),
        ("leading-space", lambda f: " " + f.issuer), ("trailing-space", lambda f: f.issuer + " "),
        ("empty", lambda f: ""), ("missing", lambda f: None), ("dot-segment", lambda f: f.issuer + "./"),
        ("nul-suffix", lambda f: f.issuer + "\u0000"), ("cyrillic-lookalike", lambda f: f.issuer.replace("e", "\u0435")),
        ("userinfo-trick", lambda f: f.issuer.replace("https://", "https://evil.test@")),
    ]],

    # ---- audience (RFC 7519 §4.1.3; RFC 8725 §3.9) ------------------------------------------------------------------
    *[C(f"aud-{label}", TOK, lambda f, value=value: f.signed_claims(aud=value(f)), "RFC 8725 §3.9") for label, value in [
        ("other-api", lambda f: "https://other.api.test"), ("trailing-slash", lambda f: f.audience + "/"),
        ("upper-case", lambda f: f.audience.upper()), ("missing", lambda f: None), ("empty-string", lambda f: ""),
        ("empty-array", lambda f: []), ("userinfo-only", lambda f: [f.issuer + "userinfo"]),
        ("prefix-of-ours", lambda f: f.audience[:-1]), ("ours-as-prefix", lambda f: f.audience + ".evil.test"),
        ("surrounding-space", lambda f: f" {f.audience} "), ("joined-in-one-string", lambda f: f.audience + " https://x"),
    ]],

    # ---- size (the filter's max_token_bytes, 8192 in these tests) ------------------------------------------------------
    C("valid-signature-8KiB-plus-1", TOK, lambda f: sized(f, 8193), "max_token_bytes"),
    C("valid-signature-64KiB", TOK, lambda f: sized(f, 64 * 1024), "max_token_bytes"),
    C("valid-signature-64KiB-plus-1", TOK, lambda f: sized(f, 64 * 1024 + 1), "max_token_bytes"),
    C("valid-signature-90KiB", TOK, lambda f: sized(f, 90 * 1024), "max_token_bytes"),
    C("garbage-70KiB", TOK, lambda f: "A" * 70 * 1024, "max_token_bytes"),
    C("dots-70KiB", TOK, lambda f: "." * 70 * 1024, "max_token_bytes"),

    # ---- several Authorization headers (RFC 6750 §2; RFC 9110 §5.3) ------------------------------------------------
    C("two-headers-same-valid-token", REQ, lambda f: H("Bearer " + f.valid(), "Bearer " + f.valid()), "RFC 6750 §2"),
    C("two-headers-valid-then-garbage", REQ, lambda f: H("Bearer " + f.valid(), "Bearer x.y.z"), "RFC 6750 §2"),
    C("two-headers-garbage-then-valid", REQ, lambda f: H("Bearer x.y.z", "Bearer " + f.valid()), "RFC 6750 §2"),
    # Envoy joins repeated Authorization headers with "," before the filter sees them: a joined value with a Bearer
    # (or DPoP) element among others is refused as several headers, whatever the order. (An extra *empty*
    # Authorization header adds nothing to the joined value, so it is no attack: not in the corpus.)
    C("two-headers-basic-then-valid", REQ, lambda f: H("Basic dXNlcjpwYXNz", "Bearer " + f.valid()), "RFC 6750 §2"),
    C("two-headers-valid-then-basic", REQ, lambda f: H("Bearer " + f.valid(), "Basic dXNlcjpwYXNz"), "RFC 6750 §2"),
    C("ten-headers", REQ, lambda f: H(*["Bearer " + f.valid()] * 10), "RFC 6750 §2"),
    C("comma-joined-two-bearers", REQ, lambda f: H(f"Bearer {f.valid()}, Bearer {f.valid()}"), "RFC 9110 §5.3"),
    C("bearer-token-then-word", REQ, lambda f: H(f"Bearer {f.valid()} extra"), "RFC 6750 §2.1"),
    C("bearer-two-tokens", REQ, lambda f: H(f"Bearer {f.valid()} {f.valid()}"), "RFC 6750 §2.1"),
    C("bearer-auth-params", REQ, lambda f: H(f'Bearer token="{f.valid()}"'), "RFC 6750 §2.1"),

    # ---- other schemes, no token (RFC 6750 §3.1; RFC 9110 §11.6.2) -------------------------------------------------
    C("scheme-basic", BARE, lambda f: H("Basic dXNlcjpwYXNzd29yZA=="), "RFC 7617"),
    C("scheme-digest", BARE, lambda f: H('Digest username="u", realm="r", nonce="n", uri="/api", response="0123"'),
      "RFC 7616"),
    C("scheme-negotiate", BARE, lambda f: H("Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXegDTALBgkqhkiG9xIBAgI="), "RFC 4559"),
    C("scheme-aws-sigv4", BARE,
      lambda f: H("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                  "SignedHeaders=host, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
      "AWS SigV4"),
    C("scheme-token-with-jwt", BARE, lambda f: H("Token " + f.valid()), "RFC 6750 §3.1"),
    C("scheme-jwt-with-jwt", BARE, lambda f: H("JWT " + f.valid()), "RFC 6750 §3.1"),
    C("scheme-missing-jwt-only", BARE, lambda f: H(f.valid()), "RFC 6750 §2.1"),
    C("scheme-bearerxyz", BARE, lambda f: H("Bearerxyz"), "RFC 6750 §2.1"),
    C("scheme-bearer-glued-to-token", BARE, lambda f: H("Bearer" + f.valid()), "RFC 6750 §2.1"),
    C("scheme-bearer-colon", BARE, lambda f: H("Bearer: " + f.valid()), "RFC 6750 §2.1"),
    C("scheme-quoted-bearer", BARE, lambda f: H('"Bearer" ' + f.valid()), "RFC 9110 §11.4"),
    C("scheme-empty-header", BARE, lambda f: H(""), "RFC 6750 §3.1"),
    C("bearer-without-token", REQ, lambda f: H("Bearer"), "RFC 6750 §2.1"),
    C("bearer-and-spaces-only", REQ, lambda f: H("Bearer     "), "RFC 6750 §2.1"),
    C("bearer-and-equals-only", REQ, lambda f: H("Bearer ==="), "RFC 6750 §2.1"),

    # ---- DPoP scheme and sender-constrained tokens (RFC 9449 §7.1, RFC 8705 §3) ------------------------------------
    C("scheme-dpop-with-unbound-jwt", DTOK, lambda f: H("DPoP " + f.valid()), "RFC 9449 §7.1"),
    C("scheme-dpop-lower-case-unbound", DTOK, lambda f: H("dpop " + f.valid()), "RFC 9449 §7.1"),
    C("dpop-bound-token-without-proof", DPROOF, lambda f: H("DPoP " + f.valid(cnf={"jkt": FOREIGN_JKT})),
      "RFC 9449 §4.3"),
    C("dpop-bound-token-as-bearer", TOK, lambda f: f.valid(cnf={"jkt": FOREIGN_JKT}), "RFC 9449 §7.1"),
    C("mtls-bound-token-without-certificate", TOK, lambda f: f.valid(cnf={"x5t#S256": FOREIGN_JKT}), "RFC 8705 §3"),
    C("cnf-not-an-object", TOK, lambda f: f.valid(cnf="jkt"), "RFC 7800 §3.1"),
    C("cnf-jkt-not-a-string", DTOK, lambda f: H("DPoP " + f.valid(cnf={"jkt": 7})), "RFC 7800 §3.1"),
    C("dpop-without-token", REQ, lambda f: H("DPoP"), "RFC 9449 §7.1"),
    C("dpop-two-tokens", REQ, lambda f: H(f"DPoP {f.valid()} {f.valid()}"), "RFC 9449 §7.1"),
    C("dpop-joined-after-basic", REQ, lambda f: H("Basic dXNlcjpwYXNz", "DPoP " + f.valid()), "RFC 9110 §5.3"),

    # ---- bytes that are not UTF-8 / not ASCII, sent raw (RFC 9110 §5.5 obs-text) -----------------------------------
    C("raw-0xff-inside-token", REQ, lambda f: raw_bearer(f, lambda t: t[:40] + b"\xff" + t[40:]), "RFC 9110 §5.5"),
    C("raw-overlong-utf8-dots", REQ, lambda f: H(b"Bearer \xc0\xae\xc0\xae/\xc0\xae\xc0\xae"), "RFC 8725 §3.7"),
    C("raw-invalid-continuation", REQ, lambda f: raw_bearer(f, lambda t: b"\xc3\x28" + t), "RFC 3629"),
    C("raw-latin1-scheme", BARE, lambda f: H(b"B\xe9arer " + f.valid().encode()), "RFC 8725 §3.7"),
    C("raw-utf8-non-ascii-in-token", REQ, lambda f: raw_bearer(f, lambda t: t + "\u00e9\u2603".encode()), "RFC 6750 §2.1"),
    C("raw-only-high-bytes", BARE, lambda f: H(bytes(range(0x80, 0x100))), "RFC 9110 §5.5"),
]


def _check_unique() -> None:
    seen: set[str] = set()
    for case in CASES:
        if case.id in seen:
            raise ValueError(f"duplicate corpus id {case.id}")
        if case.expect not in (TOK, REQ, BARE, ANY, DTOK, DPROOF):
            raise ValueError(f"{case.id}: unknown expectation {case.expect}")
        seen.add(case.id)


_check_unique()
