//! Signature checks, behind one trait ([`SignatureCheck`]) with three backends: jwt-simple
//! ([`jwtsimple`], the reference), RustCrypto over a JWS's signing input ([`rustcrypto`],
//! which DPoP proofs need) and Envoy's BoringSSL through a foreign function
//! ([`boringssl`], with [`der`] and its start-up [`selftest`]). [`both`] checks with two
//! backends (differential), and [`backend`] is the choice made at configuration.
//! [`wycheproof`] runs Project Wycheproof's vectors through the host path.

pub mod backend;
pub mod boringssl;
pub mod both;
mod der;
pub mod jwtsimple;
pub mod rustcrypto;
pub mod selftest;
#[cfg(test)]
mod tests;
pub mod wycheproof;

use crate::jwks::Key;
use crate::token::Jws;
use crate::token::TokenError;

/// Checks a signature over a token with one key.
pub trait SignatureCheck {
    /// `Ok` when `key` verifies the signature of `jws`.
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError>;
}
