//! Test-only key material and token builders shared by the unit tests.

use crate::b64;
use jwt_simple::prelude::*;
use std::sync::OnceLock;

fn rsa() -> &'static RS256KeyPair {
    static KEY: OnceLock<RS256KeyPair> = OnceLock::new();
    KEY.get_or_init(|| RS256KeyPair::from_pem(include_str!("testdata/rsa2048.pem")).unwrap())
}

fn es256() -> &'static ES256KeyPair {
    static KEY: OnceLock<ES256KeyPair> = OnceLock::new();
    KEY.get_or_init(ES256KeyPair::generate)
}

/// The public JWK of the test RSA key, with or without `"alg":"RS256"`.
pub fn rsa_jwk(kid: &str, with_alg: bool) -> String {
    let c = rsa().public_key().to_components();
    let alg = if with_alg { r#","alg":"RS256""# } else { "" };
    format!(
        r#"{{"kty":"RSA","use":"sig","kid":"{kid}","n":"{}","e":"{}"{alg}}}"#,
        b64::encode(&c.n),
        b64::encode(&c.e)
    )
}

/// The public JWK of the test P-256 key.
pub fn es256_jwk(kid: &str) -> String {
    let point = es256().public_key().public_key().to_bytes_uncompressed();
    let (x, y) = point[1..].split_at(32);
    format!(
        r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"{}","y":"{}"}}"#,
        b64::encode(x),
        b64::encode(y)
    )
}

/// A JWKS document of the given JWKs.
pub fn jwks(keys: &[String]) -> String {
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

fn claims_of(json: &str) -> JWTClaims<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_str(json).unwrap()
}

/// An RS256 token over `claims` (JSON) signed by the test RSA key under `kid`.
pub fn sign_rs256(kid: &str, claims: &str) -> String {
    rsa()
        .clone()
        .with_key_id(kid)
        .sign(claims_of(claims))
        .unwrap()
}

/// An RS256 token without `kid`.
pub fn sign_rs256_without_kid(claims: &str) -> String {
    rsa().sign(claims_of(claims)).unwrap()
}

/// An ES256 token signed by the test P-256 key under `kid`.
pub fn sign_es256(kid: &str, claims: &str) -> String {
    ES256KeyPair::from_bytes(&es256().to_bytes())
        .unwrap()
        .with_key_id(kid)
        .sign(claims_of(claims))
        .unwrap()
}

/// A compact JWS from raw header and claims JSON and signature bytes.
pub fn compact(header: &str, claims: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(claims.as_bytes()),
        b64::encode(signature)
    )
}

fn es256_next() -> &'static ES256KeyPair {
    static KEY: OnceLock<ES256KeyPair> = OnceLock::new();
    KEY.get_or_init(ES256KeyPair::generate)
}

/// The public JWK of a second P-256 key (a key replaced under the same `kid`).
pub fn es256_next_jwk(kid: &str) -> String {
    let point = es256_next()
        .public_key()
        .public_key()
        .to_bytes_uncompressed();
    let (x, y) = point[1..].split_at(32);
    format!(
        r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"{}","y":"{}"}}"#,
        b64::encode(x),
        b64::encode(y)
    )
}

/// An ES256 token signed by the second P-256 key under `kid`.
pub fn sign_es256_next(kid: &str, claims: &str) -> String {
    ES256KeyPair::from_bytes(&es256_next().to_bytes())
        .unwrap()
        .with_key_id(kid)
        .sign(claims_of(claims))
        .unwrap()
}

/// An RS256 token under `kid` whose header `typ` is `typ` (jwt-simple writes "JWT" otherwise).
pub fn sign_rs256_typed(kid: &str, typ: &str, claims: &str) -> String {
    let options = jwt_simple::prelude::HeaderOptions {
        signature_type: Some(typ.to_string()),
        ..Default::default()
    };
    rsa()
        .clone()
        .with_key_id(kid)
        .sign_with_options(claims_of(claims), &options)
        .unwrap()
}
