//! A token carried in a cookie (RFC 6265 §4.2.1), read strictly and within bounds.

use crate::token::{self, Credentials};

/// Longest `Cookie` header scanned; a longer one is refused, not truncated.
pub const MAX_COOKIE_BYTES: usize = 16 * 1024;
/// Most cookie pairs scanned in one request.
pub const MAX_COOKIE_PAIRS: usize = 256;

/// The value of cookie `name` in the `Cookie` header(s) (RFC 6265 §4.2.1, `; `-separated
/// pairs; a DQUOTEd value is unquoted). Given twice, or in an oversized header: refused.
pub(super) fn cookie<'a>(values: &[&'a str], name: &str) -> Credentials<'a> {
    if values.iter().map(|v| v.len()).sum::<usize>() > MAX_COOKIE_BYTES {
        return Credentials::Invalid("cookie header too large");
    }
    let mut found = None;
    let pairs = values.iter().flat_map(|v| v.split(';'));
    for (n, pair) in pairs.enumerate() {
        if n >= MAX_COOKIE_PAIRS {
            return Credentials::Invalid("too many cookies");
        }
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        if key.trim_matches([' ', '\t']) != name {
            continue;
        }
        if found.is_some() {
            return Credentials::Invalid("token cookie given more than once");
        }
        let value = value.trim_matches([' ', '\t']);
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        found = Some(value);
    }
    match found {
        None => Credentials::None,
        Some(token) => match token::bearer(token) {
            Credentials::Invalid(_) if !token.is_empty() => {
                Credentials::Invalid("malformed token cookie")
            }
            other => other,
        },
    }
}
