//! Bearer credentials from `Authorization` (RFC 6750 §2.1): one header, one scheme, one
//! well-formed b64token, and no second credential joined in with a comma.

/// What the `Authorization` header(s) of a request carry.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// No `Authorization` header, or one with another scheme.
    None,
    /// A syntactically valid bearer token.
    Bearer(&'a str),
    /// Several `Authorization` headers, or a `Bearer` header with a malformed token.
    Invalid(&'static str),
}

/// Reads the bearer token from all `Authorization` header values of a request.
pub fn extract<'a>(authorization: &[&'a str]) -> Credentials<'a> {
    let value = match authorization {
        [] => return Credentials::None,
        [one] => one.trim_matches([' ', '\t']),
        _ => return Credentials::Invalid("more than one Authorization header"),
    };
    // Envoy joins repeated `Authorization` lines with ",": `Basic x,Bearer t` is two headers,
    // one of them a token the upstream may read, so it is refused like any other pair.
    if value.contains(',') && value.split(',').any(carries_token) {
        return Credentials::Invalid("more than one Authorization header");
    }
    let (scheme, rest) = match value.find([' ', '\t']) {
        Some(i) => value.split_at(i),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::None;
    }
    bearer(rest.trim_start_matches([' ', '\t']))
}

/// `token` as a bearer credential: refused when empty or not a b64token.
pub fn bearer(token: &str) -> Credentials<'_> {
    if token.is_empty() {
        Credentials::Invalid("empty bearer token")
    } else if is_b64token(token) {
        Credentials::Bearer(token)
    } else {
        Credentials::Invalid("malformed bearer token")
    }
}

/// Whether `token` has RFC 6750's b64token syntax (RFC 9449's DPoP token68 is the same).
pub fn is_b64token(token: &str) -> bool {
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Whether one comma-separated element of an `Authorization` value starts with a scheme
/// that carries an access token (`Bearer`, `DPoP`).
fn carries_token(element: &str) -> bool {
    let scheme = element
        .trim_start_matches([' ', '\t'])
        .split([' ', '\t'])
        .next()
        .unwrap_or("");
    scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop")
}
