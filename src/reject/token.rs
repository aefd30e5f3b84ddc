//! The reason each [`TokenError`] counts under.

use super::reason::Reason;
use crate::token::TokenError;

impl TokenError {
    /// The reason this failure is counted under.
    pub fn reason(self) -> Reason {
        match self {
            TokenError::Malformed(_) => Reason::Malformed,
            TokenError::Claims(_) | TokenError::MissingExpiry => Reason::Claims,
            TokenError::Algorithm(_) => Reason::Algorithm,
            TokenError::UnknownIssuer => Reason::UnknownIssuer,
            TokenError::IssuerNotAccepted => Reason::IssuerNotAccepted,
            TokenError::Expired => Reason::Expired,
            TokenError::NotYetValid => Reason::NotYetValid,
            TokenError::Audience => Reason::Audience,
            TokenError::UnknownKey => Reason::UnknownKey,
            TokenError::Signature => Reason::Signature,
            TokenError::NotJwt => Reason::NotJwt,
            TokenError::Encrypted => Reason::Encrypted,
            TokenError::Profile(_) => Reason::Profile,
            TokenError::Client => Reason::Client,
        }
    }
}
