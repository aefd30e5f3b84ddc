//! `token_sources` as configured: the raw entries and their validation.

use super::TokenSource;
use crate::config::error::{invalid, ConfigError};
use serde::Deserialize;

/// Most entries in `token_sources`.
pub const MAX_SOURCES: usize = 8;
/// Header names a token source may not read (set by Envoy, or with their own source kind).
const RESERVED: [&str; 5] = [
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "te",
];

/// One `token_sources` entry as written in the configuration.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawTokenSource {
    header: Option<String>,
    scheme: Option<String>,
    cookie: Option<String>,
}

/// Validates `token_sources` (`None`: the default bearer header).
pub fn from_raw(raw: Option<Vec<RawTokenSource>>) -> Result<Vec<TokenSource>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(vec![TokenSource::bearer()]);
    };
    if raw.is_empty() || raw.len() > MAX_SOURCES {
        return invalid("token_sources", format!("give 1-{MAX_SOURCES} sources"));
    }
    let mut sources: Vec<TokenSource> = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        let at = format!("token_sources[{i}]");
        let source = match (r.header, r.cookie, r.scheme) {
            (Some(header), None, scheme) => {
                let name = header.to_ascii_lowercase();
                if !is_token(&name) || name.len() > 128 {
                    return invalid(
                        format!("{at}.header"),
                        format!("{header:?} is not a header name"),
                    );
                }
                if RESERVED.contains(&name.as_str()) {
                    return invalid(
                        format!("{at}.header"),
                        format!(
                            "{header:?} cannot carry a token (use {{\"cookie\": ...}} for cookies)"
                        ),
                    );
                }
                if let Some(s) = &scheme {
                    if !is_token(s) || s.len() > 64 {
                        return invalid(
                            format!("{at}.scheme"),
                            format!("{s:?} is not an auth scheme"),
                        );
                    }
                }
                TokenSource::Header { name, scheme }
            }
            (None, Some(name), None) => {
                if !is_token(&name) || name.len() > 128 {
                    return invalid(
                        format!("{at}.cookie"),
                        format!("{name:?} is not a cookie name"),
                    );
                }
                TokenSource::Cookie { name }
            }
            (None, Some(_), Some(_)) => {
                return invalid(format!("{at}.scheme"), "only a header source has a scheme")
            }
            _ => return invalid(at, "give exactly one of header or cookie"),
        };
        if sources.contains(&source)
            || sources.iter().any(|s| match (s, &source) {
                (TokenSource::Header { name: a, .. }, TokenSource::Header { name: b, .. }) => {
                    a == b
                }
                _ => false,
            })
        {
            return invalid(at, "this source is listed twice");
        }
        sources.push(source);
    }
    Ok(sources)
}

/// An RFC 7230 token (header names, auth schemes, cookie names).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
