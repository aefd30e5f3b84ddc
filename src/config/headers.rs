//! Header names jwt-guard sets or reads, and every spelling an upstream may read as the
//! same name: CGI, WSGI, Rack and PHP map both `-` and `_` to `_` (`HTTP_X_JWT_SUB`), and
//! header names are case-insensitive (Envoy's look-ups too, so lower case is enough).

use super::error::{invalid, ConfigError};

/// Headers a claim may never be forwarded into.
const RESERVED_HEADERS: [&str; 8] = [
    "authorization",
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
    "cookie",
];

/// Most `-`/`_` in a header name jwt-guard sets (each doubles its spellings).
pub const MAX_SEPARATORS: usize = 6;

/// The method-override headers frameworks honour (Express `method-override`, Rails,
/// ASP.NET, Symfony, Spring's `HiddenHttpMethodFilter` variants).
pub const METHOD_OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// A configured header name, lower-cased and checked.
pub(super) fn header_name(name: &str, field: &str) -> Result<String, ConfigError> {
    let lower = name.to_ascii_lowercase();
    let token = !lower.is_empty()
        && lower.len() <= 128
        && lower
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !token {
        return invalid(field, format!("{name:?} is not a valid header name"));
    }
    if RESERVED_HEADERS.contains(&lower.as_str()) {
        return invalid(field, format!("{name:?} is reserved"));
    }
    if separators(&lower) > MAX_SEPARATORS {
        return invalid(
            field,
            format!("{name:?} has more than {MAX_SEPARATORS} '-' or '_'"),
        );
    }
    Ok(lower)
}

fn separators(name: &str) -> usize {
    name.bytes().filter(|b| matches!(b, b'-' | b'_')).count()
}

/// The name as an upstream compares it: `_` and `-` are the same.
pub(super) fn canonical(name: &str) -> String {
    name.replace('_', "-")
}

/// Every spelling of a lower-case `name` with each `-`/`_` as either (2^k of them).
pub fn spellings(name: &str) -> Vec<String> {
    let positions: Vec<usize> = name
        .bytes()
        .enumerate()
        .filter(|(_, b)| matches!(b, b'-' | b'_'))
        .map(|(i, _)| i)
        .take(MAX_SEPARATORS)
        .collect();
    let mut out = Vec::with_capacity(1 << positions.len());
    for mask in 0u32..(1 << positions.len()) {
        let bytes: Vec<u8> = name
            .bytes()
            .enumerate()
            .map(|(i, b)| match positions.iter().position(|&p| p == i) {
                Some(bit) if mask & (1 << bit) != 0 => b'_',
                Some(_) => b'-',
                None => b,
            })
            .collect();
        // Only ASCII bytes were swapped for ASCII bytes.
        if let Ok(s) = String::from_utf8(bytes) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_each_separator_both_ways() {
        let mut s = spellings("x-jwt_sub");
        s.sort();
        assert_eq!(s, ["x-jwt-sub", "x-jwt_sub", "x_jwt-sub", "x_jwt_sub"]);
        assert_eq!(spellings("plain"), ["plain"]);
        assert_eq!(spellings("x-http-method-override").len(), 8);
        assert!(header_name("a-b-c-d-e-f-g-h", "f").is_err());
        assert!(header_name("a-b-c-d-e-f-g", "f").is_ok());
    }
}
