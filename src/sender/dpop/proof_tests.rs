//! Unit tests of the proof checks: each RFC 9449 §4.3 check gets a failing case.

use super::*;
use crate::b64;
use crate::signature::rustcrypto::RustCrypto;
use crate::testkeys::compact;
use jwt_simple::prelude::ECDSAP256PublicKeyLike;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

const NOW: u64 = 1_800_000_000;
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
const SCALAR: [u8; 32] = [0x11; 32];

/// The proof key's public JWK.
pub(crate) fn public_jwk(scalar: &[u8; 32]) -> String {
    let point = jwt_simple::prelude::ES256KeyPair::from_bytes(scalar)
        .unwrap()
        .public_key()
        .public_key()
        .to_bytes_uncompressed();
    let (x, y) = point[1..].split_at(32);
    format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        b64::encode(x),
        b64::encode(y)
    )
}

/// A proof with this header and these claims, signed by the P-256 key `scalar`.
pub(crate) fn sign(scalar: &[u8; 32], header: &str, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(claims.as_bytes())
    );
    let signature: Signature = SigningKey::from_slice(scalar)
        .unwrap()
        .sign(input.as_bytes());
    format!("{input}.{}", b64::encode(&signature.to_bytes()))
}

fn header() -> String {
    format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
        public_jwk(&SCALAR)
    )
}

fn claims(extra: &str) -> String {
    format!(
        r#"{{"jti":"j-1","htm":"POST","htu":"https://api.example.com/orders","iat":{NOW},"ath":"{}"{extra}}}"#,
        crate::sender::sha256_b64(TOKEN.as_bytes())
    )
}

fn run_with(proof: &str, nonces: Option<&Nonces>, algs: &[Algorithm]) -> Result<Proof, ProofError> {
    let origin = Origin::parse("https://api.example.com").unwrap();
    let req = Expected {
        method: "POST",
        origin: &origin,
        path: "/orders?x=1",
        access_token: TOKEN,
    };
    let policy = Policy {
        algorithms: algs,
        window_s: 60,
        skew_s: 5,
        nonces,
    };
    check(proof, &req, &policy, NOW, &RustCrypto)
}

fn run(proof: &str) -> Result<Proof, ProofError> {
    run_with(proof, None, &[Algorithm::ES256, Algorithm::RS256])
}

#[test]
fn a_valid_proof_yields_its_thumbprint_and_jti() {
    let proof = run(&sign(&SCALAR, &header(), &claims(""))).unwrap();
    assert_eq!(proof.jti, "j-1");
    let jwk = crate::json::parse_object(public_jwk(&SCALAR).as_bytes()).unwrap();
    assert_eq!(proof.jkt, super::super::jwk::thumbprint(&jwk).unwrap());
    assert_eq!(check_binding(&proof, &proof.jkt), Ok(()));
    assert_eq!(check_binding(&proof, "other"), Err(ProofError::Binding));
}

#[test]
fn exactly_one_header() {
    assert_eq!(single(&[]), Err(ProofError::Missing));
    assert_eq!(single(&["a", "b"]), Err(ProofError::Multiple));
    assert_eq!(single(&[" a "]), Ok("a"));
    // Two header lines as Envoy hands them over: joined by a comma.
    assert_eq!(single(&["a.b.c,d.e.f"]), Err(ProofError::Multiple));
}

#[test]
fn header_checks() {
    let jwk = public_jwk(&SCALAR);
    let c = claims("");
    for (h, expected) in [
        (
            format!(r#"{{"alg":"ES256","jwk":{jwk}}}"#),
            ProofError::Type,
        ),
        (
            format!(r#"{{"typ":"JWT","alg":"ES256","jwk":{jwk}}}"#),
            ProofError::Type,
        ),
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"none","jwk":{jwk}}}"#),
            ProofError::Algorithm,
        ),
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"HS256","jwk":{jwk}}}"#),
            ProofError::Algorithm,
        ),
        (
            format!(r#"{{"typ":"dpop+jwt","jwk":{jwk}}}"#),
            ProofError::Algorithm,
        ),
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"ES384","jwk":{jwk}}}"#),
            ProofError::Algorithm,
        ),
        (
            r#"{"typ":"dpop+jwt","alg":"ES256"}"#.to_string(),
            ProofError::Key(JwkError::Missing),
        ),
        (
            r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"oct","k":"c2VjcmV0"}}"#.to_string(),
            ProofError::Key(JwkError::Private),
        ),
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"RS256","jwk":{jwk}}}"#),
            ProofError::Key(JwkError::Unusable),
        ),
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{jwk},"crit":["x"]}}"#),
            ProofError::Malformed,
        ),
    ] {
        assert_eq!(run(&sign(&SCALAR, &h, &c)), Err(expected), "{h}");
    }
    let private = public_jwk(&SCALAR).replace(
        '{',
        r#"{"d":"ERERERERERERERERERERERERERERERERERERERERERE","#,
    );
    let h = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{private}}}"#);
    assert_eq!(
        run(&sign(&SCALAR, &h, &c)),
        Err(ProofError::Key(JwkError::Private))
    );
    // The proof algorithm allow-list is the provider's.
    let proof = sign(&SCALAR, &header(), &c);
    assert_eq!(
        run_with(&proof, None, &[Algorithm::RS256]),
        Err(ProofError::Algorithm)
    );
}

#[test]
fn structural_garbage_is_malformed() {
    let good = sign(&SCALAR, &header(), &claims(""));
    for bad in [
        String::new(),
        "x".into(),
        format!("{good}.x"),
        format!("{}.e30", b64::encode(header().as_bytes())),
        "a".repeat(MAX_PROOF_BYTES + 1),
        compact(&header(), r#"{"iat":"soon"}"#, b"sig"),
    ] {
        assert_eq!(run(&bad), Err(ProofError::Malformed), "{bad}");
    }
}

#[test]
fn the_signature_is_under_the_header_jwk() {
    let other = [0x22; 32];
    // Signed with another key than the one in the header.
    assert_eq!(
        run(&sign(&other, &header(), &claims(""))),
        Err(ProofError::Signature)
    );
    let proof = sign(&SCALAR, &header(), &claims(""));
    let (input, _) = proof.rsplit_once('.').unwrap();
    let tampered = format!("{input}.{}", b64::encode(&[0u8; 64]));
    assert_eq!(run(&tampered), Err(ProofError::Signature));
}

#[test]
fn claims_must_match_the_request() {
    let ath = crate::sender::sha256_b64(TOKEN.as_bytes());
    let body = |jti: &str, htm: &str, htu: &str, iat: u64, ath: &str| {
        format!(r#"{{"jti":"{jti}","htm":"{htm}","htu":"{htu}","iat":{iat},"ath":"{ath}"}}"#)
    };
    let u = "https://api.example.com/orders";
    for (c, expected) in [
        (body("", "POST", u, NOW, &ath), ProofError::Jti),
        (
            body(&"j".repeat(257), "POST", u, NOW, &ath),
            ProofError::Jti,
        ),
        (body("j", "GET", u, NOW, &ath), ProofError::Method),
        (body("j", "post", u, NOW, &ath), ProofError::Method),
        (
            body("j", "POST", "https://api.example.com/other", NOW, &ath),
            ProofError::Uri,
        ),
        (
            body("j", "POST", "https://evil.example/orders", NOW, &ath),
            ProofError::Uri,
        ),
        (body("j", "POST", u, NOW - 66, &ath), ProofError::IssuedAt),
        (body("j", "POST", u, NOW + 6, &ath), ProofError::IssuedAt),
        (body("j", "POST", u, NOW, "x"), ProofError::TokenHash),
        (
            body(
                "j",
                "POST",
                u,
                NOW,
                &crate::sender::sha256_b64(b"other token"),
            ),
            ProofError::TokenHash,
        ),
    ] {
        assert_eq!(run(&sign(&SCALAR, &header(), &c)), Err(expected), "{c}");
    }
    // Inside the window, skew included, and with the query ignored.
    for iat in [NOW - 65, NOW + 5] {
        let c = body("j", "POST", &format!("{u}?a=b"), iat, &ath);
        assert!(run(&sign(&SCALAR, &header(), &c)).is_ok(), "{iat}");
    }
    let no_iat = format!(r#"{{"jti":"j","htm":"POST","htu":"{u}","ath":"{ath}"}}"#);
    assert_eq!(
        run(&sign(&SCALAR, &header(), &no_iat)),
        Err(ProofError::IssuedAt)
    );
    let no_ath = format!(r#"{{"jti":"j","htm":"POST","htu":"{u}","iat":{NOW}}}"#);
    assert_eq!(
        run(&sign(&SCALAR, &header(), &no_ath)),
        Err(ProofError::TokenHash)
    );
}

#[test]
fn nonces_when_the_server_issues_them() {
    let nonces = Nonces::new([9; 32]);
    let algs = [Algorithm::ES256];
    let without = sign(&SCALAR, &header(), &claims(""));
    assert_eq!(
        run_with(&without, Some(&nonces), &algs),
        Err(ProofError::Nonce)
    );
    let stale = sign(
        &SCALAR,
        &header(),
        &claims(&format!(r#","nonce":"{}""#, nonces.current(NOW - 600))),
    );
    assert_eq!(
        run_with(&stale, Some(&nonces), &algs),
        Err(ProofError::Nonce)
    );
    let fresh = sign(
        &SCALAR,
        &header(),
        &claims(&format!(r#","nonce":"{}""#, nonces.current(NOW))),
    );
    assert!(run_with(&fresh, Some(&nonces), &algs).is_ok());
    // A nonce in a proof is ignored when the server does not issue them.
    assert!(run(&fresh).is_ok());
}

#[test]
fn reasons_are_distinct_metric_names() {
    let mut names: Vec<&str> = ProofError::ALL.iter().map(|e| e.reason()).collect();
    assert!(names
        .iter()
        .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ProofError::ALL.len());
    assert_eq!(ProofError::Nonce.error_code(), "use_dpop_nonce");
    assert_eq!(ProofError::Uri.error_code(), "invalid_dpop_proof");
    assert_eq!(ProofError::Binding.error_code(), "invalid_token");
}

#[test]
fn verifies_a_proof_minted_by_another_implementation() {
    // Minted with Python `cryptography` by tests/integration/support/dpop.py.
    let v: Value = serde_json::from_str(include_str!("../../vectors/dpop_proof.json")).unwrap();
    let origin = Origin::parse("https://api.example.com").unwrap();
    let req = Expected {
        method: "POST",
        origin: &origin,
        path: "/orders",
        access_token: v["token"].as_str().unwrap(),
    };
    let policy = Policy {
        algorithms: &[Algorithm::ES256],
        window_s: 60,
        skew_s: 0,
        nonces: None,
    };
    let proof = v["proof"].as_str().unwrap();
    let now = v["iat"].as_u64().unwrap();
    let checked = check(proof, &req, &policy, now, &RustCrypto).unwrap();
    assert_eq!(checked.jkt, v["jkt"].as_str().unwrap());
    assert_eq!(checked.jti, "vector-1");
    assert_eq!(
        check(proof, &req, &policy, now + 61, &RustCrypto),
        Err(ProofError::IssuedAt)
    );
}
