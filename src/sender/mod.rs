//! Sender constraint: a token bound to its holder is accepted only from that holder.
//! [`check`] is the step a request goes through after its token verified; it reads the
//! token's binding ([`cnf`]), checks a certificate binding over mTLS ([`mtls`], RFC 8705),
//! admits the `Authorization` scheme ([`scheme`]) and, for a DPoP-bound token, the proof
//! ([`dpop`], RFC 9449).

pub mod check;
pub mod cnf;
pub mod dpop;
pub mod mtls;
pub mod scheme;

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
