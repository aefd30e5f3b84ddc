//! Top-level `token_sources`: where a request's token is read from (a header with an auth
//! scheme, a header holding the raw token, or a cookie), and what a token that is not a
//! JWS is, so the client learns what went wrong.

pub mod config;
mod cookie;
#[cfg(test)]
mod tests;

pub use cookie::{MAX_COOKIE_BYTES, MAX_COOKIE_PAIRS};

use crate::token::{self, Credentials};
use cookie::cookie;

/// Where a token may be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A header (lower case); with a scheme, `<scheme> <token>` (scheme case-insensitive),
    /// without one the header's whole value is the token.
    Header {
        name: String,
        scheme: Option<String>,
    },
    /// A cookie of this exact (case-sensitive) name.
    Cookie { name: String },
}

impl TokenSource {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1), the default.
    pub fn bearer() -> TokenSource {
        TokenSource::Header {
            name: "authorization".into(),
            scheme: Some("Bearer".into()),
        }
    }

    /// The request header whose values this source reads.
    pub fn header_name(&self) -> &str {
        match self {
            TokenSource::Header { name, .. } => name,
            TokenSource::Cookie { .. } => "cookie",
        }
    }

    /// The token this source carries, given all values of [`TokenSource::header_name`].
    pub fn read<'a>(&self, values: &[&'a str]) -> Credentials<'a> {
        match self {
            TokenSource::Header { name, scheme }
                if name == "authorization"
                    && scheme
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case("bearer")) =>
            {
                // RFC 6750 §2.1 itself: one reading of `Authorization: Bearer`, the core's.
                token::extract(values)
            }
            TokenSource::Header { name, scheme } => {
                let value = match values {
                    [] => return Credentials::None,
                    [one] => one.trim_matches([' ', '\t']),
                    _ if name == "authorization" => {
                        return Credentials::Invalid("more than one Authorization header")
                    }
                    _ => return Credentials::Invalid("more than one token header"),
                };
                let token = match scheme {
                    Some(scheme) => {
                        let (given, rest) =
                            value.split_at(value.find([' ', '\t']).unwrap_or(value.len()));
                        if !given.eq_ignore_ascii_case(scheme) {
                            return Credentials::None;
                        }
                        rest.trim_start_matches([' ', '\t'])
                    }
                    None => value,
                };
                token::bearer(token)
            }
            TokenSource::Cookie { name } => cookie(values, name),
        }
    }
}

/// The token of a request: `lookup(header)` gives all values of a request header. A token
/// in more than one source is refused (RFC 6750 §2: one method per request).
pub fn extract<'a>(
    sources: &[TokenSource],
    lookup: impl Fn(&str) -> Vec<&'a str>,
) -> Credentials<'a> {
    let mut found = Credentials::None;
    for source in sources {
        match source.read(&lookup(source.header_name())) {
            Credentials::None => {}
            invalid @ Credentials::Invalid(_) => return invalid,
            token @ Credentials::Bearer(_) => {
                if found != Credentials::None {
                    return Credentials::Invalid("credentials in more than one place");
                }
                found = token;
            }
        }
    }
    found
}
