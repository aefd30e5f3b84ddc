//! Top-level `token_sources`: where a request's token is read from (a header with an auth
//! scheme, a header holding the raw token, or a cookie), and what a token that is not a
//! JWS is, so the client learns what went wrong.

use crate::config::{invalid, ConfigError};
use crate::token::{self, Credentials};
use serde::Deserialize;

/// Most entries in `token_sources`.
pub const MAX_SOURCES: usize = 8;
/// Longest `Cookie` header scanned; a longer one is refused, not truncated.
pub const MAX_COOKIE_BYTES: usize = 16 * 1024;
/// Most cookie pairs scanned in one request.
pub const MAX_COOKIE_PAIRS: usize = 256;
/// Header names a token source may not read (set by Envoy, or with their own source kind).
const RESERVED: [&str; 5] = [
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "te",
];

/// Description for a token without any `.`: an opaque token, not a JWT.
pub const OPAQUE: &str = "token is not a JWT: request an access token with this API's audience";
/// Description for a five-segment token: JWE compact serialization.
pub const ENCRYPTED: &str = "token is encrypted (JWE); jwt-guard verifies signed tokens only";

/// One `token_sources` entry as written in the configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokenSource {
    header: Option<String>,
    scheme: Option<String>,
    cookie: Option<String>,
}

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
                checked(token)
            }
            TokenSource::Cookie { name } => cookie(values, name),
        }
    }
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

/// What a token is, by its compact serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Three segments: possibly a JWS, to be parsed.
    Jws,
    /// Five segments: JWE (RFC 7516 §7.1).
    Jwe,
    /// No `.` at all: an opaque token (e.g. Auth0's for `/userinfo` when no audience was asked).
    Opaque,
    /// Anything else: malformed.
    Other,
}

impl Shape {
    /// The shape of `token`.
    pub fn of(token: &str) -> Shape {
        match token.bytes().filter(|&b| b == b'.').count() {
            0 => Shape::Opaque,
            2 => Shape::Jws,
            4 => Shape::Jwe,
            _ => Shape::Other,
        }
    }
}

/// A token in RFC 6750's b64token syntax, or the reason it is not one.
fn checked(token: &str) -> Credentials<'_> {
    if token.is_empty() {
        return Credentials::Invalid("empty bearer token");
    }
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    let valid = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if valid {
        Credentials::Bearer(token)
    } else {
        Credentials::Invalid("malformed bearer token")
    }
}

/// The value of cookie `name` in the `Cookie` header(s) (RFC 6265 §4.2.1, `; `-separated
/// pairs; a DQUOTEd value is unquoted). Given twice, or in an oversized header: refused.
fn cookie<'a>(values: &[&'a str], name: &str) -> Credentials<'a> {
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
        Some(token) => match checked(token) {
            Credentials::Invalid(_) if !token.is_empty() => {
                Credentials::Invalid("malformed token cookie")
            }
            other => other,
        },
    }
}

/// An RFC 7230 token (header names, auth schemes, cookie names).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sources(v: serde_json::Value) -> Result<Vec<TokenSource>, String> {
        let raw: Vec<RawTokenSource> = serde_json::from_value(v).map_err(|e| e.to_string())?;
        from_raw(Some(raw)).map_err(|e| e.to_string())
    }

    fn run<'a>(sources: &[TokenSource], headers: &[(&str, &'a str)]) -> Credentials<'a> {
        extract(sources, |name| {
            headers
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .collect()
        })
    }

    #[test]
    fn default_is_the_bearer_header() {
        let s = from_raw(None).unwrap();
        assert_eq!(s, vec![TokenSource::bearer()]);
        assert_eq!(
            run(&s, &[("authorization", "bEaReR  a.b.c ")]),
            Credentials::Bearer("a.b.c")
        );
        assert_eq!(
            run(&s, &[("authorization", "Basic eA==")]),
            Credentials::None
        );
        assert_eq!(run(&s, &[("authorization", "Bearerx")]), Credentials::None);
        assert_eq!(run(&s, &[]), Credentials::None);
        for bad in ["Bearer", "Bearer a b", "Bearer a\"b", "Bearer ==="] {
            assert!(
                matches!(run(&s, &[("authorization", bad)]), Credentials::Invalid(_)),
                "{bad}"
            );
        }
        assert_eq!(
            run(
                &s,
                &[("authorization", "Bearer a"), ("authorization", "Bearer b")]
            ),
            Credentials::Invalid("more than one Authorization header")
        );
    }

    #[test]
    fn raw_headers_and_cookies() {
        let s = sources(json!([{"header": "X-Access-Token"}, {"cookie": "at"}])).unwrap();
        assert_eq!(s[0].header_name(), "x-access-token");
        assert_eq!(
            run(&s, &[("x-access-token", " a.b.c")]),
            Credentials::Bearer("a.b.c")
        );
        assert_eq!(
            run(&s, &[("cookie", "sid=1; at=a.b.c; theme=dark")]),
            Credentials::Bearer("a.b.c")
        );
        assert_eq!(
            run(&s, &[("cookie", "at=\"a.b.c\"")]),
            Credentials::Bearer("a.b.c")
        );
        assert_eq!(
            run(&s, &[("cookie", "sid=1"), ("cookie", "at=x.y.z")]),
            Credentials::Bearer("x.y.z")
        );
        // Names are case-sensitive and matched whole; pairs without '=' are skipped.
        assert_eq!(
            run(&s, &[("cookie", "AT=a.b.c; xat=a.b.c; at")]),
            Credentials::None
        );
        // The Authorization header is not a source here.
        assert_eq!(
            run(&s, &[("authorization", "Bearer a.b.c")]),
            Credentials::None
        );
    }

    #[test]
    fn credentials_in_two_places_are_refused() {
        let s = sources(json!([{"header": "authorization", "scheme": "Bearer"}, {"cookie": "at"}]))
            .unwrap();
        assert_eq!(
            run(
                &s,
                &[("authorization", "Bearer a.b.c"), ("cookie", "at=a.b.c")]
            ),
            Credentials::Invalid("credentials in more than one place")
        );
        // Another scheme is not a credential of this source.
        assert_eq!(
            run(
                &s,
                &[("authorization", "Basic eA=="), ("cookie", "at=a.b.c")]
            ),
            Credentials::Bearer("a.b.c")
        );
    }

    #[test]
    fn cookie_parsing_is_strict_and_bounded() {
        fn invalid(h: &str) -> Credentials<'_> {
            let s = sources(json!([{"cookie": "at"}])).unwrap();
            run(&s, &[("cookie", h)])
        }
        assert_eq!(
            invalid("at=a; at=b"),
            Credentials::Invalid("token cookie given more than once")
        );
        assert_eq!(
            invalid("at=a b"),
            Credentials::Invalid("malformed token cookie")
        );
        assert_eq!(
            invalid("at=\"a"),
            Credentials::Invalid("malformed token cookie")
        );
        assert_eq!(invalid("at="), Credentials::Invalid("empty bearer token"));
        let many = "x=1;".repeat(MAX_COOKIE_PAIRS) + "at=a.b.c";
        assert_eq!(invalid(&many), Credentials::Invalid("too many cookies"));
        let big = format!("x={}; at=a.b.c", "y".repeat(MAX_COOKIE_BYTES));
        assert_eq!(
            invalid(&big),
            Credentials::Invalid("cookie header too large")
        );
    }

    #[test]
    fn config_errors_name_the_field() {
        let cases = [
            (json!([]), "token_sources: give 1-8"),
            (
                json!([{"header": "x", "cookie": "y"}]),
                "token_sources[0]: give exactly one",
            ),
            (json!([{}]), "token_sources[0]: give exactly one"),
            (
                json!([{"cookie": "c", "scheme": "Bearer"}]),
                "token_sources[0].scheme",
            ),
            (json!([{"header": "bad header"}]), "token_sources[0].header"),
            (json!([{"header": "Cookie"}]), "token_sources[0].header"),
            (
                json!([{"header": "x", "scheme": "Bea rer"}]),
                "token_sources[0].scheme",
            ),
            (json!([{"cookie": "a=b"}]), "token_sources[0].cookie"),
            (
                json!([{"cookie": "a"}, {"cookie": "a"}]),
                "token_sources[1]: this source is listed twice",
            ),
            (
                json!([{"header": "x"}, {"header": "X", "scheme": "T"}]),
                "token_sources[1]",
            ),
            (json!([{"query": "access_token"}]), "unknown field `query`"),
        ];
        for (v, expected) in cases {
            let e = sources(v.clone()).unwrap_err();
            assert!(e.contains(expected), "{v} -> {e}");
        }
    }

    #[test]
    fn shapes_explain_what_is_not_a_jws() {
        assert_eq!(
            Shape::of("xyjEfCJRjReTLIbQbEQ0LHvbmR-5oa8g_Djeukebm2a"),
            Shape::Opaque
        );
        assert_eq!(Shape::of("a.b.c"), Shape::Jws);
        assert_eq!(Shape::of("a.b.c.d.e"), Shape::Jwe);
        assert_eq!(Shape::of("a.b"), Shape::Other);
        assert_eq!(Shape::of("a..b.c.d.e"), Shape::Other);
    }
}
