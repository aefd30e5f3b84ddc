//! Start-up checks before trusting the host with signatures: a known-good token of each
//! family must verify, and the same token with one signature bit flipped must not.

use crate::alg::Algorithm;
use crate::jwks::KeySet;
use crate::signature::SignatureCheck;
use crate::token;
use thiserror::Error;

/// A self-test vector: a JWKS with one key and a token it signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vector {
    /// RS256 (RSA 2048).
    Rsa,
    /// ES256 (P-256).
    Ec,
}

impl Vector {
    fn parts(self) -> (&'static [u8], &'static str, Algorithm) {
        match self {
            Vector::Rsa => (
                include_bytes!("../vectors/selftest.jwks.json"),
                include_str!("../vectors/selftest.jwt"),
                Algorithm::RS256,
            ),
            Vector::Ec => (
                include_bytes!("../vectors/selftest-es256.jwks.json"),
                include_str!("../vectors/selftest-es256.jwt"),
                Algorithm::ES256,
            ),
        }
    }
}

/// Why a backend failed its self-test.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SelfTestError {
    /// The built-in vector did not parse (a build defect).
    #[error("{0:?} self-test vector unusable")]
    Vector(Vector),
    /// The backend refused the valid signature.
    #[error("{0:?} self-test: refused a valid signature")]
    RefusedValid(Vector),
    /// The backend accepted a forged signature.
    #[error("{0:?} self-test: accepted a forged signature")]
    AcceptedForged(Vector),
}

/// Whether `backend` accepts the known-good token of `vector` and refuses it with one
/// signature bit flipped.
pub fn self_test(backend: &dyn SignatureCheck, vector: Vector) -> Result<(), SelfTestError> {
    let (jwks, jwt, alg) = vector.parts();
    let unusable = SelfTestError::Vector(vector);
    let keys = KeySet::parse(jwks, &[alg]).map_err(|_| unusable.clone())?;
    let jws = token::parse(jwt.trim(), 8192).map_err(|_| unusable.clone())?;
    let key = keys
        .candidates(jws.kid.as_deref(), jws.alg)
        .next()
        .ok_or(unusable.clone())?;
    backend
        .check(key, &jws)
        .map_err(|_| SelfTestError::RefusedValid(vector))?;
    let mut forged_sig = jws.signature.clone();
    if let Some(byte) = forged_sig.get_mut(7) {
        *byte ^= 0x10;
    }
    let forged = format!("{}.{}", jws.signing_input, crate::b64::encode(&forged_sig));
    let bad = token::parse(&forged, 8192).map_err(|_| unusable)?;
    match backend.check(key, &bad) {
        Ok(()) => Err(SelfTestError::AcceptedForged(vector)),
        Err(_) => Ok(()),
    }
}
