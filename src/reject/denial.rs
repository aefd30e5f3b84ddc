//! [`Denial`]: a refusal of the request, and the reason it counts under.

use super::reason::Reason;
use crate::sender::check::SenderError;
use crate::sender::scheme::Scheme;
use crate::stepup::Insufficient;
use crate::token::TokenError;

/// A refusal of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No bearer credentials at all.
    MissingToken,
    /// Credentials that are not a single well-formed bearer token.
    InvalidRequest(&'static str),
    /// A request whose path or method cannot be judged safely (400).
    Ambiguous(&'static str),
    /// A bearer token that is not valid.
    InvalidToken(TokenError),
    /// A valid token lacking scopes the route requires (all of them listed).
    InsufficientScope(Vec<String>),
    /// The issuer's keys cannot be obtained right now.
    KeysUnavailable { retry_after_s: u64 },
    /// A valid token whose sender is not the one it is bound to (DPoP, mTLS); `nonce` is
    /// the `DPoP-Nonce` to send along when the server issues nonces.
    Sender {
        error: SenderError,
        scheme: Scheme,
        nonce: Option<String>,
    },
    /// A valid token from a sign-in weaker or older than the route demands (RFC 9470).
    StepUp {
        insufficient: Box<Insufficient>,
        scheme: Scheme,
    },
    /// A valid token whose claim (named, never its value) fails the route's `claims`.
    ClaimRule(String),
    /// The selected route names this rule (in its metadata), which is not configured.
    UnknownRouteRule(String),
}

impl Denial {
    /// The reason this refusal is counted under.
    pub fn reason(&self) -> Reason {
        match self {
            Denial::MissingToken => Reason::MissingToken,
            Denial::InvalidRequest(_) => Reason::InvalidRequest,
            Denial::Ambiguous(_) => Reason::AmbiguousRequest,
            Denial::InvalidToken(e) => e.reason(),
            Denial::InsufficientScope(_) => Reason::InsufficientScope,
            Denial::KeysUnavailable { .. } => Reason::KeysUnavailable,
            Denial::Sender { error, .. } => Reason::Sender(error.kind()),
            Denial::StepUp { .. } => Reason::InsufficientUserAuthentication,
            Denial::ClaimRule(_) => Reason::ClaimRule,
            Denial::UnknownRouteRule(_) => Reason::UnknownRouteRule,
        }
    }

    /// A sender refusal.
    pub fn sender(error: SenderError, scheme: Scheme, nonce: Option<String>) -> Denial {
        Denial::Sender {
            error,
            scheme,
            nonce,
        }
    }
}
