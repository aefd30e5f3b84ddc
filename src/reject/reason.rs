//! [`Reason`]: the one list of refusal kinds, and each one's metric name, status, error
//! code and operator description.

use crate::sender::check::SenderError;

/// Declares [`Reason`] and [`Reason::ALL`] from one list, so the list cannot fall behind
/// the enum: the reasons in table order, every sender refusal spliced in where `Sender`
/// stands.
macro_rules! reasons {
    (
        $(#[$attr:meta])*
        pub enum Reason {
            $($before:ident,)*
            $(#[$sender_doc:meta])* Sender(SenderError),
            $($after:ident,)*
        }
    ) => {
        $(#[$attr])*
        pub enum Reason {
            $($before,)*
            $(#[$sender_doc])* Sender(SenderError),
            $($after,)*
        }

        // Indexing is evaluated at compile time: out of bounds would fail the build.
        #[allow(clippy::indexing_slicing)]
        impl Reason {
            /// Every reason, in the order of the refusal table (docs/src/operations.md).
            pub const ALL: &'static [Reason] = &{
                const BEFORE: &[Reason] = &[$(Reason::$before),*];
                const AFTER: &[Reason] = &[$(Reason::$after),*];
                const SENDER: &[SenderError] = &SenderError::ALL;
                let mut all = [Reason::MissingToken; BEFORE.len() + SENDER.len() + AFTER.len()];
                let mut i = 0;
                while i < BEFORE.len() {
                    all[i] = BEFORE[i];
                    i += 1;
                }
                let mut j = 0;
                while j < SENDER.len() {
                    all[i + j] = Reason::Sender(SENDER[j]);
                    j += 1;
                }
                let mut k = 0;
                while k < AFTER.len() {
                    all[i + j + k] = AFTER[k];
                    k += 1;
                }
                all
            };
        }
    };
}

reasons! {
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
        UnknownRouteRule,
    }
}

impl Reason {
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
            Reason::UnknownRouteRule => "unknown_route_rule",
        }
    }

    /// The HTTP status of the reply.
    pub fn status(self) -> u32 {
        match self {
            Reason::AmbiguousRequest => 400,
            Reason::InsufficientScope | Reason::ClaimRule => 403,
            Reason::KeysUnavailable => 503,
            Reason::UnknownRouteRule => 500,
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
            Reason::UnknownRouteRule => "server_error",
            Reason::InsufficientUserAuthentication => crate::stepup::ERROR,
            Reason::Sender(e) => e.error_code(),
            _ => "invalid_token",
        }
    }

    /// When this reason applies, for operators (the refusal table of docs/src/operations.md).
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
            Reason::UnknownRouteRule => "the selected route's metadata (`filter_metadata.jwt_guard.rule`) names a rule the configuration does not have; refused whatever the token, logged once per name per worker",
        }
    }
}
