//! Why a request is refused, and the RFC 6750 answer for it: status, `WWW-Authenticate`
//! challenge and a JSON body. Descriptions are fixed strings: they never echo the token.

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
}

impl TokenError {
    /// The metric suffix for this failure.
    pub fn reason(self) -> &'static str {
        match self {
            TokenError::Malformed(_) => "malformed",
            TokenError::Claims(_) | TokenError::MissingExpiry => "claims",
            TokenError::Algorithm(_) => "algorithm",
            TokenError::UnknownIssuer => "unknown_issuer",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
            TokenError::Audience => "audience",
            TokenError::UnknownKey => "unknown_key",
            TokenError::Signature => "signature",
        }
    }

    /// A short description for the client.
    pub fn description(self) -> String {
        match self {
            TokenError::Malformed(why) => format!("malformed token: {why}"),
            TokenError::Claims(why) => format!("invalid claims: {why}"),
            TokenError::Algorithm(why) => format!("algorithm rejected: {why}"),
            TokenError::UnknownIssuer => "issuer not trusted".into(),
            TokenError::MissingExpiry => "missing exp (expiry) claim".into(),
            TokenError::Expired => "token expired".into(),
            TokenError::NotYetValid => "token not yet valid".into(),
            TokenError::Audience => "audience not accepted".into(),
            TokenError::UnknownKey => "unknown key (kid) for this issuer".into(),
            TokenError::Signature => "signature verification failed".into(),
        }
    }
}

/// A refusal of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No bearer credentials at all.
    MissingToken,
    /// Credentials that are not a single well-formed bearer token.
    InvalidRequest(&'static str),
    /// A bearer token that is not valid.
    InvalidToken(TokenError),
    /// A valid token lacking scopes the route requires (all of them listed).
    InsufficientScope(Vec<String>),
    /// The issuer's keys cannot be obtained right now.
    KeysUnavailable { retry_after_s: u64 },
}

/// A complete local reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u32,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Denial {
    /// The metric suffix for this refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            Denial::MissingToken => "missing_token",
            Denial::InvalidRequest(_) => "invalid_request",
            Denial::InvalidToken(e) => e.reason(),
            Denial::InsufficientScope(_) => "insufficient_scope",
            Denial::KeysUnavailable { .. } => "keys_unavailable",
        }
    }

    /// The HTTP reply for this refusal.
    pub fn reply(&self) -> Reply {
        let (status, challenge, error, description) = match self {
            Denial::MissingToken => (
                401,
                Some("Bearer".to_string()),
                "unauthorized",
                "bearer token required".to_string(),
            ),
            Denial::InvalidRequest(why) => (
                401,
                Some(format!(
                    r#"Bearer error="invalid_request", error_description="{why}""#
                )),
                "invalid_request",
                why.to_string(),
            ),
            Denial::InvalidToken(e) => (
                401,
                Some(format!(
                    r#"Bearer error="invalid_token", error_description="{}""#,
                    e.description()
                )),
                "invalid_token",
                e.description(),
            ),
            Denial::InsufficientScope(scopes) => {
                let scope = scopes.join(" ");
                (
                    403,
                    Some(format!(
                        r#"Bearer error="insufficient_scope", error_description="token lacks a required scope", scope="{scope}""#
                    )),
                    "insufficient_scope",
                    format!("requires scope: {scope}"),
                )
            }
            Denial::KeysUnavailable { .. } => (
                503,
                None,
                "temporarily_unavailable",
                "signing keys for the issuer are not available".to_string(),
            ),
        };
        let mut headers = vec![("content-type", "application/json".to_string())];
        if let Some(c) = challenge {
            headers.push(("www-authenticate", c));
        }
        if let Denial::KeysUnavailable { retry_after_s } = self {
            headers.push(("retry-after", retry_after_s.max(&1).to_string()));
        }
        let body = serde_json::json!({ "error": error, "error_description": description });
        Reply {
            status,
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
    fn every_reason_is_a_metric_name() {
        let all = [
            TokenError::Malformed("x"),
            TokenError::Claims("x"),
            TokenError::Algorithm("x"),
            TokenError::UnknownIssuer,
            TokenError::MissingExpiry,
            TokenError::Expired,
            TokenError::NotYetValid,
            TokenError::Audience,
            TokenError::UnknownKey,
            TokenError::Signature,
        ];
        for e in all {
            assert!(e
                .reason()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(!e.description().is_empty());
        }
    }
}
