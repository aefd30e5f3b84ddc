//! Why a request is refused, and the RFC 6750 answer for it: status, `WWW-Authenticate`
//! challenge and a JSON body. Descriptions are fixed strings: they never echo the token.
//! [`Reason`] is the one list of refusal kinds: metric names, the README table and the
//! tests all come from it.

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
            TokenError::NotJwt => crate::sources::OPAQUE.into(),
            TokenError::Encrypted => crate::sources::ENCRYPTED.into(),
            TokenError::Profile(why) => why.into(),
            TokenError::Client => "client not accepted".into(),
        }
    }
}

use crate::dpop::challenge::{self, Offer, Problem};
use crate::dpop::gate::SenderError;
use crate::dpop::scheme::Scheme;
use crate::stepup::Insufficient;

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
}

/// A complete local reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u32,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
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

    /// The HTTP reply for this refusal.
    pub fn reply(&self) -> Reply {
        self.reply_for(&Offer::default())
    }

    /// The HTTP reply for this refusal, its challenges offering what `offer` says (both
    /// `Bearer` and `DPoP` where both are accepted, `resource_metadata` on each).
    pub fn reply_for(&self, offer: &Offer) -> Reply {
        let reason = self.reason();
        let bearer = |error, description| Problem {
            scheme: Scheme::Bearer,
            error,
            description,
            params: &[],
        };
        let scope_param;
        let step_up_params;
        let sender_text;
        let token_text;
        let claim_text;
        let (challenged, problem, description): (bool, Option<Problem<'_>>, String) = match self {
            Denial::MissingToken => (true, None, "bearer token required".into()),
            Denial::InvalidRequest(why) => {
                (true, Some(bearer("invalid_request", why)), why.to_string())
            }
            Denial::Ambiguous(why) => (false, None, why.to_string()),
            Denial::InvalidToken(e) => {
                token_text = e.description();
                (
                    true,
                    Some(bearer("invalid_token", &token_text)),
                    token_text.clone(),
                )
            }
            Denial::InsufficientScope(scopes) => {
                scope_param = [("scope", scopes.join(" "))];
                let problem = Problem {
                    params: &scope_param,
                    ..bearer("insufficient_scope", "token lacks a required scope")
                };
                (
                    true,
                    Some(problem),
                    format!("requires scope: {}", scope_param[0].1),
                )
            }
            Denial::KeysUnavailable { .. } => (
                false,
                None,
                "signing keys for the issuer are not available".to_string(),
            ),
            Denial::Sender { error, scheme, .. } => {
                sender_text = error.to_string();
                let problem = Problem {
                    scheme: error.challenge_scheme(*scheme),
                    error: error.error_code(),
                    description: &sender_text,
                    params: &[],
                };
                (true, Some(problem), sender_text.clone())
            }
            Denial::StepUp {
                insufficient,
                scheme,
            } => {
                step_up_params = insufficient.params();
                let problem = Problem {
                    scheme: *scheme,
                    error: crate::stepup::ERROR,
                    description: "stronger or more recent authentication required",
                    params: &step_up_params,
                };
                (true, Some(problem), problem.description.to_string())
            }
            Denial::ClaimRule(claim) => {
                claim_text = format!("claim {claim} does not satisfy this route");
                let problem = bearer("insufficient_scope", &claim_text);
                (true, Some(problem), claim_text.clone())
            }
        };
        let mut headers = vec![("content-type", "application/json".to_string())];
        if challenged {
            for c in challenge::challenges(offer, problem.as_ref()) {
                headers.push(("www-authenticate", c));
            }
        }
        if let Denial::KeysUnavailable { retry_after_s } = self {
            headers.push(("retry-after", retry_after_s.max(&1).to_string()));
        }
        if let Denial::Sender {
            nonce: Some(nonce), ..
        } = self
        {
            headers.push(("dpop-nonce", nonce.clone()));
        }
        let body = serde_json::json!({ "error": reason.error(), "error_description": description });
        Reply {
            status: reason.status(),
            headers,
            body: body.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
        reply
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn missing_token_gets_a_bare_challenge() {
        let r = Denial::MissingToken.reply();
        assert_eq!(r.status, 401);
        assert_eq!(header(&r, "www-authenticate"), Some("Bearer"));
        assert!(r.body.contains("\"error\":\"unauthorized\""));
    }

    #[test]
    fn invalid_token_names_what_failed() {
        let r = Denial::InvalidToken(TokenError::Expired).reply();
        assert_eq!(r.status, 401);
        assert_eq!(
            header(&r, "www-authenticate"),
            Some(r#"Bearer error="invalid_token", error_description="token expired""#)
        );
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"], "invalid_token");
        assert_eq!(body["error_description"], "token expired");
        let r = Denial::InvalidToken(TokenError::IssuerNotAccepted).reply();
        assert!(header(&r, "www-authenticate")
            .unwrap()
            .contains("issuer not accepted for this route"));
    }

    #[test]
    fn ambiguous_requests_are_400_invalid_request() {
        let r = Denial::Ambiguous("path readings select different rules").reply();
        assert_eq!(r.status, 400);
        assert_eq!(header(&r, "www-authenticate"), None);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"], "invalid_request");
    }

    #[test]
    fn insufficient_scope_is_403_with_scopes() {
        let r = Denial::InsufficientScope(vec!["read:a".into(), "write:b".into()]).reply();
        assert_eq!(r.status, 403);
        let challenge = header(&r, "www-authenticate").unwrap();
        assert!(challenge.contains(r#"error="insufficient_scope""#));
        assert!(challenge.ends_with(r#"scope="read:a write:b""#));
    }

    #[test]
    fn unavailable_keys_are_503_with_retry_after() {
        let r = Denial::KeysUnavailable { retry_after_s: 0 }.reply();
        assert_eq!(r.status, 503);
        assert_eq!(header(&r, "retry-after"), Some("1"));
        assert_eq!(header(&r, "www-authenticate"), None);
    }

    #[test]
    fn every_reason_is_a_distinct_metric_name_and_every_denial_has_one() {
        let mut names: Vec<&str> = Reason::ALL.iter().map(|r| r.name()).collect();
        for n in &names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len());
        let token_errors = [
            TokenError::Malformed("x"),
            TokenError::Claims("x"),
            TokenError::Algorithm("x"),
            TokenError::UnknownIssuer,
            TokenError::IssuerNotAccepted,
            TokenError::MissingExpiry,
            TokenError::Expired,
            TokenError::NotYetValid,
            TokenError::Audience,
            TokenError::UnknownKey,
            TokenError::Signature,
            TokenError::NotJwt,
            TokenError::Encrypted,
            TokenError::Profile("x"),
            TokenError::Client,
        ];
        let denials = token_errors.into_iter().map(Denial::InvalidToken).chain([
            Denial::MissingToken,
            Denial::InvalidRequest("x"),
            Denial::Ambiguous("x"),
            Denial::InsufficientScope(vec![]),
            Denial::KeysUnavailable { retry_after_s: 1 },
            Denial::StepUp {
                insufficient: Box::new(Insufficient {
                    acr_values: "mfa".into(),
                    max_age_s: None,
                }),
                scheme: Scheme::Bearer,
            },
            Denial::ClaimRule("x".into()),
        ]);
        let senders = SenderError::ALL
            .into_iter()
            .map(|e| Denial::sender(e, Scheme::Dpop, None));
        let denials = denials.chain(senders);
        let mut seen = std::collections::HashSet::new();
        for d in denials {
            let reply = d.reply();
            assert_eq!(reply.status, d.reason().status());
            assert!(reply.body.contains(d.reason().error()));
            seen.insert(d.reason());
        }
        assert_eq!(seen.len(), Reason::ALL.len(), "a reason no denial uses");
    }

    #[test]
    fn sender_refusals_challenge_both_schemes_with_metadata() {
        let offer = Offer {
            bearer: true,
            dpop: true,
            algs: "ES256".into(),
            resource_metadata: Some(
                "https://api.example/.well-known/oauth-protected-resource".into(),
            ),
        };
        let d = Denial::sender(
            SenderError::Proof(crate::dpop::proof::ProofError::Nonce),
            Scheme::Dpop,
            Some("n0nce".into()),
        );
        let r = d.reply_for(&offer);
        assert_eq!(r.status, 401);
        let challenges: Vec<&str> = r
            .headers
            .iter()
            .filter(|(n, _)| *n == "www-authenticate")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(challenges.len(), 2);
        assert!(challenges[0].starts_with("Bearer resource_metadata="));
        assert!(challenges[1].starts_with(r#"DPoP error="use_dpop_nonce""#));
        assert!(challenges[1].contains(r#"algs="ES256""#));
        assert_eq!(header(&r, "dpop-nonce"), Some("n0nce"));
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"], "use_dpop_nonce");
        // A missing token is offered both schemes, bare but for algs and metadata.
        let r = Denial::MissingToken.reply_for(&offer);
        assert_eq!(
            r.headers
                .iter()
                .filter(|(n, _)| *n == "www-authenticate")
                .count(),
            2
        );
    }

    #[test]
    fn step_up_names_what_to_ask_for() {
        let d = Denial::StepUp {
            insufficient: Box::new(Insufficient {
                acr_values: "mfa phr".into(),
                max_age_s: Some(300),
            }),
            scheme: Scheme::Bearer,
        };
        let r = d.reply();
        assert_eq!(r.status, 401);
        assert_eq!(
            header(&r, "www-authenticate"),
            Some(
                r#"Bearer error="insufficient_user_authentication", error_description="stronger or more recent authentication required", acr_values="mfa phr", max_age="300""#
            )
        );
    }

    /// The README's table of refusals is this list, row for row.
    #[test]
    fn readme_lists_every_reason() {
        let readme = include_str!("../README.md");
        let missing: Vec<String> = Reason::ALL
            .iter()
            .map(|r| {
                format!(
                    "| `{}` | {} | `{}` | {} |",
                    r.name(),
                    r.status(),
                    r.error(),
                    r.description()
                )
            })
            .filter(|row| !readme.contains(row))
            .collect();
        assert!(
            missing.is_empty(),
            "README lacks the rows:\n{}",
            missing.join("\n")
        );
    }
}
