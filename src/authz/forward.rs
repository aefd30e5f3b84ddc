//! What an allowed request carries to the upstream: the configured claim headers, the
//! payload header and the provider header. A claim value an HTTP hop would change
//! (leading or trailing SP/HTAB, control characters, longer than the limit) is withheld,
//! not forwarded altered: the upstream would otherwise read another value than the token's.

use crate::config::{Config, Provider};
use crate::token::Jws;
use serde_json::Value;

/// Longest header value the filter forwards; longer claims are withheld.
pub const MAX_FORWARDED_VALUE: usize = 8 * 1024;

/// Whether a hop would forward `value` unchanged.
pub fn forwardable(value: &str) -> bool {
    value.len() <= MAX_FORWARDED_VALUE
        && !value.starts_with([' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && !value.chars().any(char::is_control)
}

/// The headers for the upstream, and how many claim values were withheld.
pub fn headers(cfg: &Config, provider: &Provider, jws: &Jws<'_>) -> (Vec<(String, String)>, u32) {
    let mut headers = Vec::new();
    let mut withheld = 0u32;
    if !cfg.forward_claims.is_empty() {
        let claims = serde_json::to_value(&jws.claims).unwrap_or(Value::Null);
        for (claim, header) in &cfg.forward_claims {
            let value = match claims.get(claim) {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            if forwardable(&value) {
                headers.push((header.clone(), value));
            } else {
                withheld = withheld.saturating_add(1);
            }
        }
    }
    if let Some(header) = &cfg.forward_payload_header {
        headers.push((header.clone(), jws.payload_b64.to_string()));
    }
    if let Some(header) = &cfg.forward_provider_header {
        headers.push((header.clone(), provider.name.clone()));
    }
    (headers, withheld)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_a_hop_would_change_are_not_forwardable() {
        assert!(forwardable("user|123"));
        assert!(forwardable("a b"));
        assert!(forwardable(""));
        for bad in [
            " lead",
            "trail ",
            "\ttab",
            "tab\t",
            "nl\nx",
            "cr\rx",
            "nul\0",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            assert!(!forwardable(bad), "{bad:?}");
        }
        assert!(forwardable(&"x".repeat(MAX_FORWARDED_VALUE)));
        assert!(!forwardable(&"x".repeat(MAX_FORWARDED_VALUE + 1)));
    }
}
