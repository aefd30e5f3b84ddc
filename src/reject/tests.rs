use super::*;
use crate::reject::challenge::Offer;
use crate::sender::check::SenderError;
use crate::sender::scheme::Scheme;
use crate::stepup::Insufficient;
use crate::token::TokenError;

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
fn an_unknown_route_rule_is_a_server_error_without_a_challenge_or_the_name() {
    let r = Denial::UnknownRouteRule("secret-rule".into()).reply();
    assert_eq!(r.status, 500);
    assert_eq!(header(&r, "www-authenticate"), None);
    assert!(r.body.contains("server_error"));
    assert!(!r.body.contains("secret-rule"));
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
        Denial::UnknownRouteRule("x".into()),
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
        resource_metadata: Some("https://api.example/.well-known/oauth-protected-resource".into()),
    };
    let d = Denial::sender(
        SenderError::Proof(crate::sender::dpop::proof::ProofError::Nonce),
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

/// The operations chapter's table of refusals is this list, row for row.
#[test]
fn operations_chapter_lists_every_reason() {
    let chapter = include_str!("../../docs/src/operations.md");
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
        .filter(|row| !chapter.contains(row))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/src/operations.md lacks the rows:\n{}",
        missing.join("\n")
    );
}
