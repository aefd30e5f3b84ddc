//! The signing keys: the current RS256 key signs, the JWKS also lists the one it
//! replaced (so tokens signed before a rotation stay valid until they expire).

use jwt_simple::prelude::*;
use serde_json::{json, Value};

/// A new RSA-2048 signing key whose `kid` is its RFC 7638 thumbprint.
pub fn new_signing_key() -> Result<RS256KeyPair, String> {
    let key =
        RS256KeyPair::generate(2048).map_err(|err| format!("cannot generate an RSA key: {err}"))?;
    let kid = key.jwk_thumbprint();
    Ok(key.with_key_id(&kid))
}

/// The current key and the previous one.
pub struct KeyRing {
    current: RS256KeyPair,
    previous: Option<RS256PublicKey>,
}

fn kid_of(key: &RS256KeyPair) -> String {
    key.key_id().clone().unwrap_or_default()
}

impl KeyRing {
    pub fn new(current: RS256KeyPair) -> Self {
        KeyRing {
            current,
            previous: None,
        }
    }

    /// The `kid` tokens are signed with now.
    pub fn current_kid(&self) -> String {
        kid_of(&self.current)
    }

    /// Makes `new_key` the signing key; the JWKS keeps the key it replaces (only that
    /// one). Returns the new and the previous `kid`.
    pub fn rotate(&mut self, new_key: RS256KeyPair) -> (String, String) {
        let old = std::mem::replace(&mut self.current, new_key);
        self.previous = Some(old.public_key());
        (kid_of(&self.current), kid_of(&old))
    }

    /// Signs `claims` with the current key (header: `alg`, `typ`, `kid`).
    pub fn sign<C: Serialize + serde::de::DeserializeOwned>(
        &self,
        claims: JWTClaims<C>,
    ) -> Result<String, String> {
        self.current
            .sign(claims)
            .map_err(|err| format!("cannot sign a token: {err}"))
    }

    /// Verifies a token signed by one of the ring's keys.
    pub fn verify(
        &self,
        token: &str,
        options: VerificationOptions,
    ) -> Result<JWTClaims<NoCustomClaims>, String> {
        let kid = Token::decode_metadata(token)
            .map_err(|_| "malformed token".to_string())?
            .key_id()
            .map(str::to_string);
        let current = self.current.public_key();
        let key = if kid.as_deref() == current.key_id().as_deref() {
            &current
        } else {
            match &self.previous {
                Some(previous) if kid.as_deref() == previous.key_id().as_deref() => previous,
                _ => return Err("unknown key".to_string()),
            }
        };
        key.verify_token::<NoCustomClaims>(token, Some(options))
            .map_err(|err| err.to_string())
    }

    /// The public keys as a JWKS document, the signing key first.
    pub fn jwks(&self) -> Value {
        let mut keys = vec![self.current.public_key().to_jwk()];
        if let Some(previous) = &self.previous {
            keys.push(previous.to_jwk());
        }
        let keys: Vec<Value> = keys
            .iter()
            .filter_map(|jwk| serde_json::from_str(jwk).ok())
            .collect();
        json!({ "keys": keys })
    }
}
