//! [`Reply`]: the RFC 6750 local reply for a [`Denial`]: status, `WWW-Authenticate`
//! challenges and the JSON body.

use super::challenge::{self, Offer, Problem};
use super::denial::Denial;
use crate::sender::scheme::Scheme;

/// A complete local reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u32,
    /// Headers in the order sent (lower-case names).
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: String,
}

impl Denial {
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
            // The name stays in the log: it describes the deployment, not the request.
            Denial::UnknownRouteRule(_) => (
                false,
                None,
                "the route names a jwt-guard rule that is not configured".to_string(),
            ),
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
