//! Sender-constrained tokens with DPoP (RFC 9449), read in the request's order:
//! [`scheme`] (which `Authorization` scheme, and whether the token's binding allows it),
//! [`proof`] (the `DPoP` header checked as §4.3 requires, with [`htu`] and [`jwk`]),
//! [`nonce`] (§8 server nonces) and [`replay`] (one use per `jti` for the whole process,
//! over the compare-and-swap [`store`]). [`settings`] holds the configuration pieces and
//! [`challenge`] the `WWW-Authenticate` answers.

pub mod challenge;
pub mod gate;
pub mod htu;
pub mod jwk;
pub mod nonce;
pub mod proof;
pub mod raw;
pub mod replay;
pub mod scheme;
pub mod settings;
pub mod store;

use sha2::{Digest, Sha256};

/// base64url(SHA-256(`bytes`)): the form of `ath`, `jkt` and `x5t#S256`.
pub fn sha256_b64(bytes: &[u8]) -> String {
    crate::b64::encode(&Sha256::digest(bytes))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_rfc_9449_ath_example() {
        // RFC 9449 §7.1: the access token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
        // hashes to ath "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo".
        assert_eq!(
            sha256_b64(b"Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(constant_time_eq("", ""));
    }
}
