//! Public key material from one JWK: decoded, checked (RSA size and exponent, curve), bound to one
//! algorithm, and identified by a hash of the material itself.

use super::jwk::{KeyError, RawJwk};
use crate::alg::{Algorithm, KeyFamily};
use crate::b64;
use jwt_simple::prelude::{
    ES256PublicKey, ES384PublicKey, Ed25519PublicKey, PS256PublicKey, PS384PublicKey,
    PS512PublicKey, RS256PublicKey, RS384PublicKey, RS512PublicKey,
};

const MIN_RSA_BITS: usize = 2048;
/// jwt-simple's limit: it verifies with no larger key.
const MAX_RSA_BITS: usize = 4096;
/// The one RSA public exponent accepted.
pub const RSA_EXPONENT: u64 = 65_537;

/// The identity of a key's material (BLAKE3 of its type and public bytes: the DER SPKI
/// for RSA, the SEC1 point for EC, `x` for Ed25519). Two keys with one `kid` but other
/// material have different ids.
pub type KeyId = [u8; 32];

/// The typed public key, one variant per algorithm.
pub enum Material {
    RS256(RS256PublicKey),
    RS384(RS384PublicKey),
    RS512(RS512PublicKey),
    PS256(PS256PublicKey),
    PS384(PS384PublicKey),
    PS512(PS512PublicKey),
    ES256(ES256PublicKey),
    ES384(ES384PublicKey),
    EdDSA(Ed25519PublicKey),
}

/// Decoded public key bytes, before binding to an algorithm.
pub(super) enum KeyMaterial {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        spki: Vec<u8>,
    },
    Sec1 {
        point: Vec<u8>,
        spki: Vec<u8>,
    },
    Ed25519(Vec<u8>),
}

fn field(value: &Option<String>, name: &'static str) -> Result<Vec<u8>, KeyError> {
    let text = value.as_deref().ok_or(KeyError::Missing(name))?;
    b64::decode(text.as_bytes()).ok_or(KeyError::NotBase64(name))
}

impl KeyMaterial {
    pub(super) fn decode(raw: &RawJwk, family: KeyFamily) -> Result<KeyMaterial, KeyError> {
        match family {
            KeyFamily::Rsa => {
                let n = field(&raw.n, "n")?;
                let e = field(&raw.e, "e")?;
                let n: Vec<u8> = n.into_iter().skip_while(|b| *b == 0).collect();
                let bits = match n.first() {
                    Some(first) => n.len() * 8 - first.leading_zeros() as usize,
                    None => 0,
                };
                if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                    return Err(KeyError::RsaSize(bits));
                }
                if e.is_empty() || e.len() > 8 {
                    return Err(KeyError::Invalid("bad RSA exponent"));
                }
                // jwt-simple, the reference backend, verifies with e = 65537 only; a key
                // that one backend could use and another not would make a token's fate
                // depend on the backend.
                let exponent = e.iter().fold(0u64, |v, b| v << 8 | u64::from(*b));
                if exponent != RSA_EXPONENT {
                    return Err(KeyError::RsaExponent(exponent));
                }
                let spki = RS256PublicKey::from_components(&n, &e)
                    .and_then(|k| k.to_der())
                    .map_err(|_| KeyError::Invalid("unusable RSA key"))?;
                Ok(KeyMaterial::Rsa { n, e, spki })
            }
            KeyFamily::P256 | KeyFamily::P384 => {
                let len = if family == KeyFamily::P256 { 32 } else { 48 };
                let x = field(&raw.x, "x")?;
                let y = field(&raw.y, "y")?;
                if x.len() != len || y.len() != len {
                    return Err(KeyError::Invalid("EC coordinates of the wrong length"));
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                let spki = if family == KeyFamily::P256 {
                    ES256PublicKey::from_bytes(&point).and_then(|k| k.to_der())
                } else {
                    ES384PublicKey::from_bytes(&point).and_then(|k| k.to_der())
                }
                .map_err(|_| KeyError::Invalid("EC point not on the curve"))?;
                Ok(KeyMaterial::Sec1 { point, spki })
            }
            KeyFamily::Ed25519 => {
                let x = field(&raw.x, "x")?;
                if x.len() != 32 {
                    return Err(KeyError::Invalid("Ed25519 key of the wrong length"));
                }
                Ok(KeyMaterial::Ed25519(x))
            }
        }
    }

    /// The DER SubjectPublicKeyInfo of an RSA or EC key (what Envoy's BoringSSL imports).
    pub(super) fn spki(&self) -> Option<Vec<u8>> {
        match self {
            KeyMaterial::Rsa { spki, .. } | KeyMaterial::Sec1 { spki, .. } => Some(spki.clone()),
            KeyMaterial::Ed25519(_) => None,
        }
    }

    /// The identity of this material.
    pub(super) fn id(&self) -> KeyId {
        let mut h = blake3::Hasher::new();
        match self {
            KeyMaterial::Rsa { spki, .. } => h.update(b"rsa\0").update(spki),
            KeyMaterial::Sec1 { point, .. } => h.update(b"ec\0").update(point),
            KeyMaterial::Ed25519(x) => h.update(b"ed25519\0").update(x),
        };
        *h.finalize().as_bytes()
    }

    pub(super) fn typed(&self, alg: Algorithm) -> Result<Material, KeyError> {
        let bad = |_| KeyError::Unusable(alg);
        Ok(match (self, alg) {
            (KeyMaterial::Rsa { n, e, .. }, Algorithm::RS256) => {
                Material::RS256(RS256PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e, .. }, Algorithm::RS384) => {
                Material::RS384(RS384PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e, .. }, Algorithm::RS512) => {
                Material::RS512(RS512PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e, .. }, Algorithm::PS256) => {
                Material::PS256(PS256PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e, .. }, Algorithm::PS384) => {
                Material::PS384(PS384PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e, .. }, Algorithm::PS512) => {
                Material::PS512(PS512PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Sec1 { point, .. }, Algorithm::ES256) => {
                Material::ES256(ES256PublicKey::from_bytes(point).map_err(bad)?)
            }
            (KeyMaterial::Sec1 { point, .. }, Algorithm::ES384) => {
                Material::ES384(ES384PublicKey::from_bytes(point).map_err(bad)?)
            }
            (KeyMaterial::Ed25519(x), Algorithm::EdDSA) => {
                Material::EdDSA(Ed25519PublicKey::from_bytes(x).map_err(bad)?)
            }
            _ => return Err(KeyError::AlgorithmMismatch(alg)),
        })
    }
}
