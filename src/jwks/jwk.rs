//! One JWK as the JWKS writes it, and why a key is skipped.

use crate::alg::Algorithm;
use serde::Deserialize;

/// Why one JWK was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("kid too long")]
    KidTooLong,
    #[error("use {0:?} is not \"sig\"")]
    NotForSignatures(String),
    #[error("key_ops does not allow verify")]
    NoVerifyOp,
    #[error("unsupported key type {0:?}/{1:?}")]
    UnsupportedType(Option<String>, Option<String>),
    #[error("unsupported alg {0:?}")]
    UnsupportedAlg(String),
    #[error("{0} does not fit the key type")]
    AlgorithmMismatch(Algorithm),
    #[error("no allowed algorithm for this key")]
    NoAllowedAlgorithm,
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("{0} is not base64url")]
    NotBase64(&'static str),
    #[error("RSA key of {0} bits (2048-4096 accepted)")]
    RsaSize(usize),
    #[error("RSA public exponent {0} is not 65537, the only one accepted")]
    RsaExponent(u64),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("unusable {0} key")]
    Unusable(Algorithm),
}

/// One JWK as written, the members jwt-guard reads.
#[derive(Deserialize)]
pub(super) struct RawJwk {
    pub(super) kty: Option<String>,
    pub(super) kid: Option<String>,
    #[serde(rename = "use")]
    pub(super) use_: Option<String>,
    pub(super) key_ops: Option<Vec<String>>,
    pub(super) alg: Option<String>,
    pub(super) n: Option<String>,
    pub(super) e: Option<String>,
    pub(super) crv: Option<String>,
    pub(super) x: Option<String>,
    pub(super) y: Option<String>,
}
