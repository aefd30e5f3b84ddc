use super::*;
use crate::token::shape::Shape;
use config::{from_raw, RawTokenSource};
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
