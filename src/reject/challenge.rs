//! `WWW-Authenticate` challenges for a 401 (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1):
//! one per accepted scheme, the error on the scheme it concerns, `algs` on every `DPoP`
//! challenge and `resource_metadata` on all of them.

use crate::sender::scheme::Scheme;

/// What every challenge of this deployment offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Some provider accepts `Authorization: Bearer`.
    pub bearer: bool,
    /// Some provider accepts `Authorization: DPoP`.
    pub dpop: bool,
    /// The proof algorithms, space-separated, for `algs`.
    pub algs: String,
    /// The URL of the protected-resource metadata, for `resource_metadata`.
    pub resource_metadata: Option<String>,
}

impl Default for Offer {
    /// `Bearer` alone, as without any DPoP or metadata configuration.
    fn default() -> Offer {
        Offer {
            bearer: true,
            dpop: false,
            algs: String::new(),
            resource_metadata: None,
        }
    }
}

/// The error a challenge reports.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// The scheme the failing credentials used (or the one that was missing).
    pub scheme: Scheme,
    /// `error`: `invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`, ...
    pub error: &'a str,
    /// `error_description`, a fixed string.
    pub description: &'a str,
    /// Further parameters (`scope`, `acr_values`, `max_age`).
    pub params: &'a [(&'a str, String)],
}

/// The `WWW-Authenticate` values, one per offered scheme, `Bearer` first.
pub fn challenges(offer: &Offer, problem: Option<&Problem<'_>>) -> Vec<String> {
    let schemes: Vec<Scheme> = [(offer.bearer, Scheme::Bearer), (offer.dpop, Scheme::Dpop)]
        .into_iter()
        .filter_map(|(on, s)| on.then_some(s))
        .collect();
    // An error about a scheme nobody accepts is reported on the first scheme offered.
    let error_scheme = problem.map(|p| {
        if schemes.contains(&p.scheme) {
            p.scheme
        } else {
            schemes.first().copied().unwrap_or(Scheme::Bearer)
        }
    });
    let schemes = if schemes.is_empty() {
        vec![Scheme::Bearer]
    } else {
        schemes
    };
    schemes
        .into_iter()
        .map(|scheme| {
            let mut params: Vec<(&str, String)> = Vec::new();
            if let (Some(p), true) = (problem, error_scheme == Some(scheme)) {
                params.push(("error", p.error.to_string()));
                params.push(("error_description", p.description.to_string()));
                params.extend(p.params.iter().cloned());
            }
            if scheme == Scheme::Dpop && !offer.algs.is_empty() {
                params.push(("algs", offer.algs.clone()));
            }
            if let Some(url) = &offer.resource_metadata {
                params.push(("resource_metadata", url.clone()));
            }
            render(scheme, &params)
        })
        .collect()
}

fn render(scheme: Scheme, params: &[(&str, String)]) -> String {
    let mut out = String::from(match scheme {
        Scheme::Bearer => "Bearer",
        Scheme::Dpop => "DPoP",
    });
    for (i, (name, value)) in params.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars().filter(|c| !c.is_control()) {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> Offer {
        Offer {
            bearer: true,
            dpop: true,
            algs: "ES256 EdDSA".into(),
            resource_metadata: Some(
                "https://api.example.com/.well-known/oauth-protected-resource".into(),
            ),
        }
    }

    #[test]
    fn bare_challenges_offer_every_scheme() {
        assert_eq!(
            challenges(&both(), None),
            vec![
                r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#,
                r#"DPoP algs="ES256 EdDSA", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#,
            ]
        );
        assert_eq!(challenges(&Offer::default(), None), vec!["Bearer"]);
    }

    #[test]
    fn the_error_goes_on_its_scheme() {
        let p = Problem {
            scheme: Scheme::Dpop,
            error: "invalid_dpop_proof",
            description: "DPoP proof htu does not match the request URI",
            params: &[],
        };
        let c = challenges(&both(), Some(&p));
        assert!(c[0].starts_with("Bearer resource_metadata="), "{}", c[0]);
        assert!(
            c[1].starts_with(
                r#"DPoP error="invalid_dpop_proof", error_description="DPoP proof htu does not match the request URI", algs="ES256 EdDSA""#
            ),
            "{}",
            c[1]
        );
        let dpop_only = Offer {
            bearer: false,
            ..both()
        };
        let step_up = Problem {
            scheme: Scheme::Bearer,
            error: "insufficient_user_authentication",
            description: "stronger authentication required",
            params: &[("acr_values", "mfa phr".into()), ("max_age", "300".into())],
        };
        let c = challenges(&dpop_only, Some(&step_up));
        assert_eq!(c.len(), 1);
        assert!(c[0].starts_with(
            r#"DPoP error="insufficient_user_authentication", error_description="stronger authentication required", acr_values="mfa phr", max_age="300", algs="#
        ));
    }

    #[test]
    fn values_are_quoted_safely() {
        let p = Problem {
            scheme: Scheme::Bearer,
            error: "invalid_token",
            description: "a \"quoted\" \\ value\r\n",
            params: &[],
        };
        let c = challenges(&both(), Some(&p));
        assert!(
            c[0].contains(r#"error_description="a \"quoted\" \\ value""#),
            "{}",
            c[0]
        );
    }
}
