//! An independent JWS verifier (RustCrypto, ed25519-dalek, the `base64` crate in strict mode) used as the oracle
//! of the token target: whatever jwt-guard accepts must verify here too, over the exact token text, with the
//! fixture JWKS, canonical base64url and a key whose JWK `alg` is the token's `alg`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;

fn b64(segment: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    // Canonical: re-encoding gives back the very same text.
    (URL_SAFE_NO_PAD.encode(&bytes) == segment).then_some(bytes)
}

fn field(jwk: &Value, name: &str) -> Option<Vec<u8>> {
    b64(jwk.get(name)?.as_str()?)
}

fn rsa_key(jwk: &Value) -> Option<RsaPublicKey> {
    let n = BigUint::from_bytes_be(&field(jwk, "n")?);
    let e = BigUint::from_bytes_be(&field(jwk, "e")?);
    RsaPublicKey::new(n, e).ok()
}

fn check(jwk: &Value, alg: &str, text: &[u8], sig: &[u8]) -> Option<bool> {
    use rsa::{pkcs1v15, pss};
    use sha2::{Sha256, Sha384, Sha512};
    Some(match alg {
        "RS256" => pkcs1v15::VerifyingKey::<Sha256>::new(rsa_key(jwk)?)
            .verify(text, &pkcs1v15::Signature::try_from(sig).ok()?)
            .is_ok(),
        "RS384" => pkcs1v15::VerifyingKey::<Sha384>::new(rsa_key(jwk)?)
            .verify(text, &pkcs1v15::Signature::try_from(sig).ok()?)
            .is_ok(),
        "RS512" => pkcs1v15::VerifyingKey::<Sha512>::new(rsa_key(jwk)?)
            .verify(text, &pkcs1v15::Signature::try_from(sig).ok()?)
            .is_ok(),
        "PS256" => pss::VerifyingKey::<Sha256>::new(rsa_key(jwk)?)
            .verify(text, &pss::Signature::try_from(sig).ok()?)
            .is_ok(),
        "PS384" => pss::VerifyingKey::<Sha384>::new(rsa_key(jwk)?)
            .verify(text, &pss::Signature::try_from(sig).ok()?)
            .is_ok(),
        "PS512" => pss::VerifyingKey::<Sha512>::new(rsa_key(jwk)?)
            .verify(text, &pss::Signature::try_from(sig).ok()?)
            .is_ok(),
        "ES256" => {
            let point = [&[4u8][..], &field(jwk, "x")?, &field(jwk, "y")?].concat();
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?;
            key.verify(text, &p256::ecdsa::Signature::from_slice(sig).ok()?)
                .is_ok()
        }
        "ES384" => {
            let point = [&[4u8][..], &field(jwk, "x")?, &field(jwk, "y")?].concat();
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?;
            key.verify(text, &p384::ecdsa::Signature::from_slice(sig).ok()?)
                .is_ok()
        }
        "EdDSA" => {
            let x: [u8; 32] = field(jwk, "x")?.try_into().ok()?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&x).ok()?;
            let sig = ed25519_dalek::Signature::from_slice(sig).ok()?;
            key.verify_strict(text, &sig).is_ok()
        }
        _ => return None,
    })
}

/// Whether `token` is a compact JWS that the JWKS `jwks` genuinely verifies (kid-selected, alg-bound key).
pub fn genuine(token: &str, jwks: &Value) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, _payload, sig] = parts.as_slice() else {
        return false;
    };
    let (Some(head), Some(sig)) = (b64(header), b64(sig)) else {
        return false;
    };
    let Ok(head) = serde_json::from_slice::<Value>(&head) else {
        return false;
    };
    let Some(alg) = head.get("alg").and_then(Value::as_str) else {
        return false;
    };
    let kid = head.get("kid").and_then(Value::as_str);
    let text = &token.as_bytes()[..header.len() + 1 + _payload.len()];
    jwks["keys"].as_array().into_iter().flatten().any(|jwk| {
        jwk["alg"].as_str() == Some(alg)
            && (kid.is_none() || jwk["kid"].as_str() == kid)
            && check(jwk, alg, text, &sig) == Some(true)
    })
}
