//! [`Reason`]: the one list of refusal kinds, and each one's metric name, status, error
//! code and operator description.

use crate::sender::check::SenderError;

/// Every kind of refusal, one metric (`jwt_guard.denied.<name>`) each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    MissingToken,
    InvalidRequest,
    AmbiguousRequest,
    Malformed,
    Claims,
    Algorithm,
    UnknownIssuer,
    IssuerNotAccepted,
    Expired,
    NotYetValid,
    Audience,
    UnknownKey,
    Signature,
    InsufficientScope,
    KeysUnavailable,
    InsufficientUserAuthentication,
    /// The token is bound to a DPoP key or a client certificate the sender did not prove.
    Sender(SenderError),
    NotJwt,
    Encrypted,
    Profile,
    Client,
    ClaimRule,
}

impl Reason {
    /// Every reason, in the order of the README table.
    pub const ALL: &'static [Reason] = &[
        Reason::MissingToken,
        Reason::InvalidRequest,
        Reason::AmbiguousRequest,
        Reason::Malformed,
        Reason::Claims,
        Reason::Algorithm,
        Reason::UnknownIssuer,
        Reason::IssuerNotAccepted,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::Audience,
        Reason::UnknownKey,
        Reason::Signature,
        Reason::InsufficientScope,
        Reason::KeysUnavailable,
        Reason::InsufficientUserAuthentication,
        Reason::Sender(SenderError::ALL[0]),
        Reason::Sender(SenderError::ALL[1]),
        Reason::Sender(SenderError::ALL[2]),
        Reason::Sender(SenderError::ALL[3]),
        Reason::Sender(SenderError::ALL[4]),
        Reason::Sender(SenderError::ALL[5]),
        Reason::Sender(SenderError::ALL[6]),
        Reason::Sender(SenderError::ALL[7]),
        Reason::Sender(SenderError::ALL[8]),
        Reason::Sender(SenderError::ALL[9]),
        Reason::Sender(SenderError::ALL[10]),
        Reason::Sender(SenderError::ALL[11]),
        Reason::Sender(SenderError::ALL[12]),
        Reason::Sender(SenderError::ALL[13]),
        Reason::Sender(SenderError::ALL[14]),
        Reason::Sender(SenderError::ALL[15]),
        Reason::Sender(SenderError::ALL[16]),
        Reason::Sender(SenderError::ALL[17]),
        Reason::Sender(SenderError::ALL[18]),
        Reason::Sender(SenderError::ALL[19]),
        Reason::Sender(SenderError::ALL[20]),
        Reason::Sender(SenderError::ALL[21]),
        Reason::Sender(SenderError::ALL[22]),
        Reason::NotJwt,
        Reason::Encrypted,
        Reason::Profile,
        Reason::Client,
        Reason::ClaimRule,
    ];

    /// The metric suffix: `jwt_guard.denied.<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Reason::MissingToken => "missing_token",
            Reason::InvalidRequest => "invalid_request",
            Reason::AmbiguousRequest => "ambiguous_request",
            Reason::Malformed => "malformed",
            Reason::Claims => "claims",
            Reason::Algorithm => "algorithm",
            Reason::UnknownIssuer => "unknown_issuer",
            Reason::IssuerNotAccepted => "issuer_not_accepted",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Audience => "audience",
            Reason::UnknownKey => "unknown_key",
            Reason::Signature => "signature",
            Reason::InsufficientScope => "insufficient_scope",
            Reason::KeysUnavailable => "keys_unavailable",
            Reason::InsufficientUserAuthentication => "insufficient_user_authentication",
            Reason::Sender(e) => e.reason(),
            Reason::NotJwt => "not_jwt",
            Reason::Encrypted => "encrypted",
            Reason::Profile => "profile",
            Reason::Client => "client",
            Reason::ClaimRule => "claim_rule",
        }
    }

    /// The HTTP status of the reply.
    pub fn status(self) -> u32 {
        match self {
            Reason::AmbiguousRequest => 400,
            Reason::InsufficientScope | Reason::ClaimRule => 403,
            Reason::KeysUnavailable => 503,
            _ => 401,
        }
    }

    /// The body's `error` (the RFC 6750 error code where there is one).
    pub fn error(self) -> &'static str {
        match self {
            Reason::MissingToken => "unauthorized",
            Reason::InvalidRequest | Reason::AmbiguousRequest => "invalid_request",
            Reason::InsufficientScope | Reason::ClaimRule => "insufficient_scope",
            Reason::KeysUnavailable => "temporarily_unavailable",
            Reason::InsufficientUserAuthentication => crate::stepup::ERROR,
            Reason::Sender(e) => e.error_code(),
            _ => "invalid_token",
        }
    }

    /// When this reason applies, for operators (the README's table).
    pub fn description(self) -> &'static str {
        match self {
            Reason::MissingToken => "no `Authorization: Bearer` credentials on a protected route",
            Reason::InvalidRequest => {
                "several `Authorization` headers, or an empty or malformed bearer value"
            }
            Reason::AmbiguousRequest => {
                "a path or method jwt-guard cannot judge safely (too long, escapes nested too deep, too many method overrides), or, with `ambiguous_paths: \"reject\"`, a path whose readings select different rules"
            }
            Reason::Malformed => "not a compact JWS, bad base64url or JSON, refused header (`crit`, `jwk`, …), too large",
            Reason::Claims => "claims of the wrong JSON type, or no `exp`",
            Reason::Algorithm => "`alg` unsupported, not allowed for the issuer, or not the key's algorithm",
            Reason::UnknownIssuer => "`iss` is not a configured provider's issuer",
            Reason::IssuerNotAccepted => "the issuer is configured but the route's `providers` does not list it",
            Reason::Expired => "`exp` has passed (beyond `clock_skew_s`)",
            Reason::NotYetValid => "`nbf` or `iat` in the future (beyond `clock_skew_s`)",
            Reason::Audience => "no configured audience in `aud`",
            Reason::UnknownKey => "no key with the token's `kid`, even after a refetch",
            Reason::Signature => "the signature does not verify, even after a refetch",
            Reason::InsufficientScope => "a valid token without a scope the route requires",
            Reason::KeysUnavailable => "the issuer's keys cannot be obtained (first fetch failed, or dropped after `max_stale_s`)",
            Reason::InsufficientUserAuthentication => "the token's `acr` is not in the rule's `acr_values`, or its `auth_time` is older than `max_age_s`",
            Reason::Sender(e) => e.when(),
            Reason::NotJwt => "an opaque token (no `.`): \"token is not a JWT: request an access token with this API's audience\"",
            Reason::Encrypted => "a JWE (five segments): \"token is encrypted (JWE); jwt-guard verifies signed tokens only\"",
            Reason::Profile => "with `profile: \"rfc9068\"`: `typ` is not `at+jwt`, or `sub`, `client_id`, `iat` or `jti` is missing",
            Reason::Client => "with `clients`: `azp` or `client_id` is not listed (\"client not accepted\")",
            Reason::ClaimRule => "a valid token failing the route's `claims` (the description names the claim, never its value)",
        }
    }
}
