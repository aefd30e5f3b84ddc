//! JWKS documents (RFC 7517) parsed into usable verification keys. Keys that cannot be
//! used (unknown type, weak RSA, point off the curve, ambiguous `kid`, encryption keys)
//! are skipped with a reason; a document with no usable key at all is an error.
//!
//! Each key verifies exactly one algorithm: its JWK's `alg`, or, without `alg`, its
//! type's default (RSA → RS256, P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA). Only
//! [`KeySet::parse_listed`] (a provider whose `algorithms` is written out) lets an
//! `alg`-less key also serve the other listed algorithms of its type, so an attacker
//! cannot pick a slower algorithm (PS256 on an RS256 key) by default.

mod jwk;
mod material;
#[cfg(test)]
mod tests;

pub use jwk::KeyError;
pub use material::{KeyId, Material};

use crate::alg::{Algorithm, KeyFamily};
use crate::json::{self, JsonError};
use jwk::RawJwk;
use material::KeyMaterial;
use serde::Deserialize;
use std::fmt;

/// Largest JWKS document accepted, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Most keys read from one document.
pub const MAX_KEYS: usize = 64;
const MAX_KID_LEN: usize = 256;

/// A verification key bound to exactly one algorithm.
pub struct Key {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub material: Material,
    /// DER SubjectPublicKeyInfo of RSA and EC keys (what Envoy's BoringSSL imports),
    /// computed once per key.
    pub spki: Option<Vec<u8>>,
    /// The identity of the material, which verified-token cache entries are bound to.
    pub id: KeyId,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?}, {})", self.kid, self.alg)
    }
}

impl Key {
    /// The key one parsed JWK gives for `alg`, for keys that arrive outside a JWKS document
    /// (a DPoP proof's `jwk`): a JWK without `alg` takes `alg`; one with another `alg`, or
    /// of a type `alg` cannot use, is refused.
    pub fn from_jwk(jwk: &serde_json::Value, alg: Algorithm) -> Result<Key, KeyError> {
        let raw = RawJwk::deserialize(jwk).map_err(|_| KeyError::Invalid("not a JWK object"))?;
        let (_, keys) = usable_keys(&raw, &[alg], true)?;
        keys.into_iter().next().ok_or(KeyError::NoAllowedAlgorithm)
    }
}

/// The usable keys of one JWKS document.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    jwk_count: usize,
    skipped: Vec<String>,
    rsa_exponent_refused: usize,
}

/// Why a whole JWKS document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Larger than [`MAX_JWKS_BYTES`].
    #[error("JWKS larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    /// Not a strict JSON object.
    #[error("JWKS: {0}")]
    Json(#[from] JsonError),
    /// No `keys` array.
    #[error("JWKS: \"keys\" must be an array")]
    NoKeysArray,
    /// Not one key could be used; why each was skipped.
    #[error("JWKS has no usable key: {0}")]
    NoUsableKey(String),
}

impl KeySet {
    /// Parses a JWKS document, keeping keys usable with one of `allowed` algorithms; a
    /// key without `alg` serves its type's default algorithm only.
    pub fn parse(body: &[u8], allowed: &[Algorithm]) -> Result<KeySet, JwksError> {
        Self::parse_with(body, allowed, false)
    }

    /// Like [`KeySet::parse`], but a key without `alg` serves every algorithm of its type
    /// in `allowed` (for a provider whose `algorithms` lists them explicitly).
    pub fn parse_listed(body: &[u8], allowed: &[Algorithm]) -> Result<KeySet, JwksError> {
        Self::parse_with(body, allowed, true)
    }

    fn parse_with(body: &[u8], allowed: &[Algorithm], listed: bool) -> Result<KeySet, JwksError> {
        if body.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge);
        }
        let doc = json::parse_object(body)?;
        let Some(serde_json::Value::Array(entries)) = doc.get("keys") else {
            return Err(JwksError::NoKeysArray);
        };
        let mut set = KeySet::default();
        if entries.len() > MAX_KEYS {
            set.skipped.push(format!(
                "{} keys beyond the first {MAX_KEYS}",
                entries.len() - MAX_KEYS
            ));
        }
        let mut parsed: Vec<(Option<String>, KeyFamily, Vec<Key>)> = Vec::new();
        for (i, entry) in entries.iter().take(MAX_KEYS).enumerate() {
            match serde_json::from_value::<RawJwk>(entry.clone()) {
                Ok(raw) => match usable_keys(&raw, allowed, listed) {
                    Ok((family, keys)) => parsed.push((raw.kid, family, keys)),
                    Err(why) => {
                        if let KeyError::RsaExponent(_) = why {
                            set.rsa_exponent_refused += 1;
                        }
                        set.skipped.push(format!("key {i} ({:?}): {why}", raw.kid));
                    }
                },
                Err(e) => set.skipped.push(format!("key {i}: {e}")),
            }
        }
        // Two keys of one family under one `kid` are ambiguous: neither is trusted.
        let is_twin = |kid: &Option<String>, family: KeyFamily| {
            kid.is_some()
                && parsed
                    .iter()
                    .filter(|(k, f, _)| k == kid && *f == family)
                    .count()
                    > 1
        };
        let ambiguous: Vec<bool> = parsed.iter().map(|(k, f, _)| is_twin(k, *f)).collect();
        for ((kid, _, keys), twin) in parsed.into_iter().zip(ambiguous) {
            if twin {
                set.skipped
                    .push(format!("kid {kid:?} appears more than once"));
            } else {
                set.jwk_count += 1;
                set.keys.extend(keys);
            }
        }
        if set.keys.is_empty() {
            let why = if set.skipped.is_empty() {
                "no keys".to_string()
            } else {
                set.skipped.join("; ")
            };
            return Err(JwksError::NoUsableKey(why));
        }
        Ok(set)
    }

    /// The keys that may verify a token with this `kid` and `alg`.
    pub fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a Key> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.alg == alg && (kid.is_none() || k.kid.as_deref() == kid))
    }

    /// Whether any key carries this `kid`, whatever its algorithm.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Whether the set holds a key with this material.
    pub fn contains(&self, id: &KeyId) -> bool {
        self.keys.iter().any(|k| &k.id == id)
    }

    /// Number of usable JWKs in the set.
    pub fn len(&self) -> usize {
        self.jwk_count
    }

    /// The distinct `kid`s of the set, for the logs.
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        kids.dedup();
        kids
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// What was skipped and why, for the logs.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// How many RSA keys were skipped for a public exponent other than 65537.
    pub fn rsa_exponent_refused(&self) -> usize {
        self.rsa_exponent_refused
    }
}

fn usable_keys(
    raw: &RawJwk,
    allowed: &[Algorithm],
    listed: bool,
) -> Result<(KeyFamily, Vec<Key>), KeyError> {
    if raw.kid.as_ref().is_some_and(|k| k.len() > MAX_KID_LEN) {
        return Err(KeyError::KidTooLong);
    }
    if let Some(u) = raw.use_.as_ref().filter(|u| *u != "sig") {
        return Err(KeyError::NotForSignatures(u.clone()));
    }
    if let Some(ops) = &raw.key_ops {
        if !ops.iter().any(|o| o == "verify") {
            return Err(KeyError::NoVerifyOp);
        }
    }
    let family = match (raw.kty.as_deref(), raw.crv.as_deref()) {
        (Some("RSA"), _) => KeyFamily::Rsa,
        (Some("EC"), Some("P-256")) => KeyFamily::P256,
        (Some("EC"), Some("P-384")) => KeyFamily::P384,
        (Some("OKP"), Some("Ed25519")) => KeyFamily::Ed25519,
        (kty, crv) => {
            return Err(KeyError::UnsupportedType(
                kty.map(str::to_string),
                crv.map(str::to_string),
            ))
        }
    };
    let algs: Vec<Algorithm> = match &raw.alg {
        Some(name) => {
            let alg = Algorithm::parse(name).ok_or(KeyError::UnsupportedAlg(name.clone()))?;
            if alg.family() != family {
                return Err(KeyError::AlgorithmMismatch(alg));
            }
            vec![alg]
        }
        None if listed => allowed
            .iter()
            .copied()
            .filter(|a| a.family() == family)
            .collect(),
        None => vec![family.default_algorithm()],
    };
    let algs: Vec<Algorithm> = algs.into_iter().filter(|a| allowed.contains(a)).collect();
    if algs.is_empty() {
        return Err(KeyError::NoAllowedAlgorithm);
    }
    let material = KeyMaterial::decode(raw, family)?;
    let (spki, id) = (material.spki(), material.id());
    let keys = algs
        .into_iter()
        .map(|alg| {
            Ok(Key {
                kid: raw.kid.clone(),
                alg,
                material: material.typed(alg)?,
                spki: spki.clone(),
                id,
            })
        })
        .collect::<Result<Vec<_>, KeyError>>()?;
    Ok((family, keys))
}
