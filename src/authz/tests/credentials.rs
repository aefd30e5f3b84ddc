//! The request side: anonymous routes, token sources and shapes, method overrides.

use super::*;

#[test]
fn anonymous_routes_and_missing_tokens() {
    let cfg = config("");
    assert_eq!(once(&cfg, "/public/x", &[]), allowed());
    assert_eq!(once(&cfg, "/api", &[]), Verdict::Deny(Denial::MissingToken));
    assert_eq!(
        once(&cfg, "/api", &["Basic eA=="]),
        Verdict::Deny(Denial::MissingToken)
    );
    assert!(matches!(
        once(&cfg, "/api", &["Bearer a", "Bearer b"]),
        Verdict::Deny(Denial::InvalidRequest(_))
    ));
    // A bad token on an anonymous route is still refused.
    assert!(matches!(
        once(&cfg, "/public", &["Bearer x.y.z"]),
        Verdict::Deny(Denial::InvalidToken(_))
    ));
    // A path another reading sends to a protected rule needs a token.
    assert_eq!(
        once(&cfg, "/public/..%2fadmin", &[]),
        Verdict::Deny(Denial::MissingToken)
    );
}

#[test]
fn token_sources_and_shapes() {
    let cfg = with("", r#","token_sources":[{"cookie":"at"}]"#);
    let token = sign_rs256("k1", &claims(""));
    let ctx = ctx(&cfg, NOW);
    let cookie = format!("at={token}");
    let mut cache = TokenCache::new(0);
    let decide_with = |headers: &[(&str, &str)], cache: &mut TokenCache| {
        let req = Request {
            method: "GET",
            path: "/",
            token_headers: headers,
            method_overrides: &[],
            dpop: &[],
            origin: None,
            peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
            route: Default::default(),
        };
        decide(&ctx, &req, |_| None::<&KeySet>, cache)
    };
    assert!(matches!(
        decide_with(&[("cookie", &cookie)], &mut cache),
        Verdict::NeedKeys { provider: 0, .. }
    ));
    let auth = format!("Bearer {token}");
    assert_eq!(
        decide_with(&[("authorization", &auth)], &mut cache),
        Verdict::Deny(Denial::MissingToken)
    );
    let plain = config("");
    assert_eq!(
        once(&plain, "/", &["Bearer opaqueTOKEN123"]),
        Verdict::Deny(Denial::InvalidToken(TokenError::NotJwt))
    );
    assert_eq!(
        once(&plain, "/", &["Bearer a.b.c.d.e"]),
        Verdict::Deny(Denial::InvalidToken(TokenError::Encrypted))
    );
}

#[test]
fn method_overrides_are_judged_strictest() {
    let cfg = Config::parse(
        br#"{"providers":[{"name":"p","issuer":"https://t/","audiences":["api"],"jwks_cluster":"c"}],
             "rules":[{"prefix":"/items","methods":["GET"],"allow_anonymous":true}]}"#,
    )
    .unwrap();
    let c = ctx(&cfg, NOW);
    let mut cache = TokenCache::new(0);
    let mut with = |method: &'static str, overrides: &[&str]| {
        let r = Request {
            method,
            path: "/items",
            token_headers: &[],
            method_overrides: overrides,
            dpop: &[],
            origin: None,
            peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
            route: Default::default(),
        };
        decide(&c, &r, |i| inline(&cfg, i), &mut cache)
    };
    assert_eq!(with("GET", &[]), allowed());
    assert_eq!(with("HEAD", &[]), allowed());
    assert_eq!(
        with("GET", &["DELETE"]),
        Verdict::Deny(Denial::MissingToken)
    );
    assert_eq!(
        with("GET", &["get, delete"]),
        Verdict::Deny(Denial::MissingToken)
    );
    assert_eq!(with("POST", &[]), Verdict::Deny(Denial::MissingToken));
}
