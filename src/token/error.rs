//! [`TokenError`]: why a presented token is not valid (the reason it counts under is
//! `reject`'s business).

use super::shape::{ENCRYPTED, OPAQUE};

/// Why a presented token is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a well-formed compact JWS, or a header we refuse.
    Malformed(&'static str),
    /// Claims of the wrong JSON type.
    Claims(&'static str),
    /// `alg` not supported, not allowed for the issuer, or not matching the key.
    Algorithm(&'static str),
    /// `iss` absent or not a configured issuer.
    UnknownIssuer,
    /// `iss` is a configured issuer the route does not accept.
    IssuerNotAccepted,
    /// `exp` absent.
    MissingExpiry,
    /// `exp` passed (beyond the clock skew).
    Expired,
    /// `nbf` or `iat` in the future (beyond the clock skew).
    NotYetValid,
    /// No configured audience in `aud`.
    Audience,
    /// No key in the issuer's JWKS matches `kid` and `alg`.
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// An opaque token (no `.`): not a JWT at all.
    NotJwt,
    /// A JWE (five segments): encrypted, not signed.
    Encrypted,
    /// Not the provider's token profile (RFC 9068).
    Profile(&'static str),
    /// `azp` / `client_id` not among the provider's `clients`.
    Client,
}

impl TokenError {
    /// A short description for the client.
    pub fn description(self) -> String {
        match self {
            TokenError::Malformed(why) => format!("malformed token: {why}"),
            TokenError::Claims(why) => format!("invalid claims: {why}"),
            TokenError::Algorithm(why) => format!("algorithm rejected: {why}"),
            TokenError::UnknownIssuer => "issuer not trusted".into(),
            TokenError::IssuerNotAccepted => "issuer not accepted for this route".into(),
            TokenError::MissingExpiry => "missing exp (expiry) claim".into(),
            TokenError::Expired => "token expired".into(),
            TokenError::NotYetValid => "token not yet valid".into(),
            TokenError::Audience => "audience not accepted".into(),
            TokenError::UnknownKey => "unknown key (kid) for this issuer".into(),
            TokenError::Signature => "signature verification failed".into(),
            TokenError::NotJwt => OPAQUE.into(),
            TokenError::Encrypted => ENCRYPTED.into(),
            TokenError::Profile(why) => why.into(),
            TokenError::Client => "client not accepted".into(),
        }
    }
}
