//! Decision tests: rules, credentials, cache, keys, resumption, providers, headers.

use super::*;
use crate::alg::Algorithm;
use crate::config::KeySource;
use crate::testkeys::{self, sign_es256, sign_es256_next, sign_rs256};
use crate::verify::JwtSimple;

const NOW: u64 = 1_800_000_000;

fn config(extra: &str) -> Config {
    let jwks = serde_json::to_string(&testkeys::jwks(&[
        testkeys::rsa_jwk("k1", true),
        testkeys::es256_jwk("e1"),
    ]))
    .unwrap();
    let text = format!(
        r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],"jwks":{jwks}}},
            {{"name":"q","issuer":"https://q/","audiences":["api"],"jwks_cluster":"c"}}],
           "rules":[{{"prefix":"/public","allow_anonymous":true}},
                    {{"prefix":"/admin","scopes":["write:admin"]}},
                    {{"prefix":"/q-only","providers":["q"]}}]{extra}}}"#
    );
    Config::parse(text.as_bytes()).unwrap()
}

fn claims(extra: &str) -> String {
    format!(
        r#"{{"iss":"https://t/","aud":["api"],"exp":{},"sub":"u1"{extra}}}"#,
        NOW + 300
    )
}

fn inline(cfg: &Config, i: usize) -> Option<&KeySet> {
    match &cfg.providers[i].keys {
        KeySource::Inline(k) => Some(k),
        KeySource::Remote(_) | KeySource::Discovered(_) => None,
    }
}

fn ctx(cfg: &Config, now: u64) -> Context<'_> {
    Context {
        config: cfg,
        now,
        backend: &JwtSimple,
        sender: None,
    }
}

fn req<'a>(path: &'a str, token_headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
    Request {
        method: "GET",
        path,
        token_headers,
        method_overrides: &[],
        dpop: &[],
        origin: None,
        peer_certificate: None,
    }
}

/// `auth` as the request's `Authorization` values.
fn authorization<'a>(auth: &[&'a str]) -> Vec<(&'static str, &'a str)> {
    auth.iter().map(|a| ("authorization", *a)).collect()
}

fn run(cfg: &Config, path: &str, auth: &[&str], cache: &mut TokenCache, now: u64) -> Verdict {
    let headers = authorization(auth);
    decide(
        &ctx(cfg, now),
        &req(path, &headers),
        |i| inline(cfg, i),
        cache,
    )
}

fn once(cfg: &Config, path: &str, auth: &[&str]) -> Verdict {
    run(cfg, path, auth, &mut TokenCache::new(0), NOW)
}

fn allowed() -> Verdict {
    Verdict::Allow {
        headers: vec![],
        withheld: 0,
    }
}

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
fn valid_token_allowed_with_scopes_enforced() {
    let cfg = config(
        r#","forward_claims":{"sub":"x-sub","aud":"x-aud"},"forward_payload_header":"x-payload","forward_provider_header":"x-provider""#,
    );
    let token = sign_rs256("k1", &claims(r#","scope":"read write:admin""#));
    let auth = format!("Bearer {token}");
    let Verdict::Allow { headers, withheld } = once(&cfg, "/admin", &[&auth]) else {
        panic!()
    };
    assert_eq!(withheld, 0);
    assert!(headers.contains(&("x-sub".into(), "u1".into())));
    assert!(headers.contains(&("x-aud".into(), r#"["api"]"#.into())));
    assert!(headers.contains(&("x-provider".into(), "p".into())));
    let payload = headers.iter().find(|(h, _)| h == "x-payload").unwrap();
    assert!(token.contains(&payload.1));
    let weak = format!("Bearer {}", sign_rs256("k1", &claims(r#","scope":"read""#)));
    assert_eq!(
        once(&cfg, "/admin", &[&weak]),
        Verdict::Deny(Denial::InsufficientScope(vec!["write:admin".into()]))
    );
    // A case-insensitive upstream serves /ADMIN as /admin: its scopes apply.
    assert!(matches!(
        once(&cfg, "/ADMIN/x", &[&weak]),
        Verdict::Deny(Denial::InsufficientScope(_))
    ));
}

#[test]
fn claim_values_a_hop_would_change_are_withheld_and_counted() {
    let cfg = config(r#","forward_claims":{"sub":"x-sub","nick":"x-nick","note":"x-note"}"#);
    let token = sign_rs256("k1", &claims(r#","nick":" padded","note":"a\u0001b""#));
    let auth = format!("Bearer {token}");
    let mut cache = TokenCache::new(4);
    for _ in 0..2 {
        let Verdict::Allow { headers, withheld } = run(&cfg, "/", &[&auth], &mut cache, NOW) else {
            panic!()
        };
        assert_eq!(headers, vec![("x-sub".to_string(), "u1".to_string())]);
        assert_eq!(withheld, 2, "also when served from the cache");
    }
}

#[test]
fn issuers_and_keys() {
    let cfg = config("");
    let other = claims("").replace("https://t/", "https://t");
    let auth = format!("Bearer {}", sign_rs256("k1", &other));
    assert_eq!(
        once(&cfg, "/", &[&auth]),
        Verdict::Deny(Denial::InvalidToken(TokenError::UnknownIssuer))
    );
    let auth = format!("Bearer {}", sign_rs256("k2", &claims("")));
    let Verdict::NeedKeys {
        provider: 0,
        pending,
    } = once(&cfg, "/", &[&auth])
    else {
        panic!()
    };
    assert_eq!(
        pending.fallback,
        Denial::InvalidToken(TokenError::UnknownKey)
    );
    assert!(pending.is_refetch());
    let q = claims("").replace("https://t/", "https://q/");
    let auth = format!("Bearer {}", sign_rs256("k1", &q));
    let Verdict::NeedKeys {
        provider: 1,
        pending,
    } = once(&cfg, "/", &[&auth])
    else {
        panic!()
    };
    assert!(!pending.is_refetch());
    assert_eq!(
        pending.give_up(7),
        Denial::KeysUnavailable { retry_after_s: 7 }
    );
    let expired = q.replace(&(NOW + 300).to_string(), &(NOW - 300).to_string());
    let auth = format!("Bearer {}", sign_rs256("k1", &expired));
    assert_eq!(
        once(&cfg, "/", &[&auth]),
        Verdict::Deny(Denial::InvalidToken(TokenError::Expired))
    );
}

#[test]
fn routes_accept_only_their_providers() {
    let cfg = config("");
    let auth = format!("Bearer {}", sign_rs256("k1", &claims("")));
    let mut cache = TokenCache::new(4);
    assert!(matches!(
        run(&cfg, "/x", &[&auth], &mut cache, NOW),
        Verdict::Allow { .. }
    ));
    for _ in 0..2 {
        // Fresh and from the cache alike.
        assert_eq!(
            run(&cfg, "/q-only/x", &[&auth], &mut cache, NOW),
            Verdict::Deny(Denial::InvalidToken(TokenError::IssuerNotAccepted))
        );
    }
}

#[test]
fn a_failed_signature_under_a_known_kid_asks_for_newer_keys_then_resumes() {
    let cfg = config("");
    let old = crate::jwks::KeySet::parse(
        testkeys::jwks(&[testkeys::es256_jwk("e1")]).as_bytes(),
        &Algorithm::ALL,
    )
    .unwrap();
    let new = crate::jwks::KeySet::parse(
        testkeys::jwks(&[testkeys::es256_next_jwk("e1")]).as_bytes(),
        &Algorithm::ALL,
    )
    .unwrap();
    let fresh = format!("Bearer {}", sign_es256_next("e1", &claims("")));
    let stale = format!("Bearer {}", sign_es256("e1", &claims("")));
    let mut cache = TokenCache::new(8);
    let c = ctx(&cfg, NOW);
    // Cache a token of the old key.
    assert!(matches!(
        decide(
            &c,
            &req("/", &[("authorization", &stale)]),
            |_| Some(&old),
            &mut cache
        ),
        Verdict::Allow { .. }
    ));
    // A token of the new key under the old kid: NeedKeys, answer Signature if nothing newer.
    let Verdict::NeedKeys {
        provider: 0,
        pending,
    } = decide(
        &c,
        &req("/", &[("authorization", &fresh)]),
        |_| Some(&old),
        &mut cache,
    )
    else {
        panic!()
    };
    assert_eq!(
        pending.give_up(1),
        Denial::InvalidToken(TokenError::Signature)
    );
    // The refetch brought the same key: final refusal, without another NeedKeys.
    assert_eq!(
        resume(&c, pending.clone(), |_| Some(&old), &mut cache),
        Verdict::Deny(Denial::InvalidToken(TokenError::Signature))
    );
    // The refetch brought the new key: allowed and cached.
    assert!(matches!(
        resume(&c, pending, |_| Some(&new), &mut cache),
        Verdict::Allow { .. }
    ));
    assert!(matches!(
        decide(
            &c,
            &req("/", &[("authorization", &fresh)]),
            |_| Some(&new),
            &mut cache
        ),
        Verdict::Allow { .. }
    ));
    // The old key's cached token stops at the same moment its fresh tokens do.
    assert!(matches!(
        decide(
            &c,
            &req("/", &[("authorization", &stale)]),
            |_| Some(&new),
            &mut cache
        ),
        Verdict::NeedKeys { .. }
    ));
}

#[test]
fn resume_without_keys_waits_again_and_unknown_kid_is_final() {
    let cfg = config("");
    let q = claims("").replace("https://t/", "https://q/");
    let auth = format!("Bearer {}", sign_es256("e9", &q));
    let mut cache = TokenCache::new(0);
    let c = ctx(&cfg, NOW);
    let Verdict::NeedKeys { pending, .. } = decide(
        &c,
        &req("/", &[("authorization", &auth)]),
        |_| None,
        &mut cache,
    ) else {
        panic!()
    };
    let Verdict::NeedKeys { pending, .. } = resume(&c, pending, |_| None, &mut cache) else {
        panic!()
    };
    let set = inline(&cfg, 0);
    assert_eq!(
        resume(&c, pending, |_| set, &mut cache),
        Verdict::Deny(Denial::InvalidToken(TokenError::UnknownKey))
    );
}

#[test]
fn cache_hits_still_check_time_and_scopes() {
    let cfg = config("");
    let mut cache = TokenCache::new(16);
    let auth = format!("Bearer {}", sign_rs256("k1", &claims("")));
    assert!(matches!(
        run(&cfg, "/", &[&auth], &mut cache, NOW),
        Verdict::Allow { .. }
    ));
    assert_eq!(cache.len(), 1);
    assert!(matches!(
        run(&cfg, "/", &[&auth], &mut cache, NOW + 100),
        Verdict::Allow { .. }
    ));
    assert!(matches!(
        run(&cfg, "/admin", &[&auth], &mut cache, NOW),
        Verdict::Deny(Denial::InsufficientScope(_))
    ));
    assert_eq!(
        run(&cfg, "/", &[&auth], &mut cache, NOW + 1000),
        Verdict::Deny(Denial::InvalidToken(TokenError::Expired))
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
            peer_certificate: None,
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

/// A configuration with one inline provider and `rest` (rules, token_sources...).
fn with(provider: &str, rest: &str) -> Config {
    let jwks = serde_json::to_string(&testkeys::jwks(&[testkeys::rsa_jwk("k1", true)])).unwrap();
    let text = format!(
        r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],"jwks":{jwks}{provider}}}]{rest}}}"#
    );
    Config::parse(text.as_bytes()).unwrap()
}

fn bearer(claims_extra: &str, typ: &str) -> String {
    let token = testkeys::sign_rs256_typed("k1", typ, &claims(claims_extra));
    format!("Bearer {token}")
}

#[test]
fn claims_rules_name_the_claim_and_hold_on_cache_hits() {
    let cfg = with(
        "",
        r#","rules":[{"prefix":"/admin","claims":[{"claim":"https://x/roles","contains":"admin"}]}]"#,
    );
    let mut cache = TokenCache::new(8);
    let admin = bearer(r#","https://x/roles":["admin"]"#, "JWT");
    let user = bearer(r#","https://x/roles":["user-secret"]"#, "JWT");
    for _ in 0..2 {
        assert!(matches!(
            run(&cfg, "/admin", &[&admin], &mut cache, NOW),
            Verdict::Allow { .. }
        ));
        let denied = run(&cfg, "/admin", &[&user], &mut cache, NOW);
        assert_eq!(
            denied,
            Verdict::Deny(Denial::ClaimRule("https://x/roles".into()))
        );
        let Verdict::Deny(d) = denied else { panic!() };
        assert_eq!(d.reply().status, 403);
        assert!(!d.reply().body.contains("user-secret"));
        // Another route without claims still admits the token.
        assert!(matches!(
            run(&cfg, "/other", &[&user], &mut cache, NOW),
            Verdict::Allow { .. }
        ));
    }
    assert_eq!(cache.len(), 2);
}

#[test]
fn report_mode_continues_without_unverified_claims() {
    let cfg = with(
        "",
        r#","rules":[{"prefix":"/r","mode":"report","scopes":["s"]}],"forward_claims":{"sub":"x-sub"}"#,
    );
    assert_eq!(
        once(&cfg, "/r", &[]),
        Verdict::Report {
            headers: vec![],
            withheld: 0,
            would: Some(Denial::MissingToken)
        }
    );
    let weak = bearer("", "JWT");
    assert_eq!(
        once(&cfg, "/r", &[&weak]),
        Verdict::Report {
            headers: vec![],
            withheld: 0,
            would: Some(Denial::InsufficientScope(vec!["s".into()]))
        }
    );
    let good = bearer(r#","scope":"s""#, "JWT");
    assert_eq!(
        once(&cfg, "/r", &[&good]),
        Verdict::Report {
            headers: vec![("x-sub".into(), "u1".into())],
            withheld: 0,
            would: None
        }
    );
    assert_eq!(
        once(&cfg, "/enforced", &[]),
        Verdict::Deny(Denial::MissingToken)
    );
}

#[test]
fn profile_and_clients_are_checked_after_the_signature() {
    let cfg = with(r#","profile":"rfc9068","clients":["spa"]"#, "");
    let full = r#","client_id":"spa","iat":1799999000,"jti":"j""#;
    let at = "at+jwt";
    assert!(matches!(
        once(&cfg, "/", &[&bearer(full, at)]),
        Verdict::Allow { .. }
    ));
    assert_eq!(
        once(&cfg, "/", &[&bearer(full, "JWT")]),
        Verdict::Deny(Denial::InvalidToken(TokenError::Profile(
            "not an RFC 9068 access token: typ must be at+jwt"
        )))
    );
    let other = full.replace("spa", "other");
    assert_eq!(
        once(&cfg, "/", &[&bearer(&other, at)]),
        Verdict::Deny(Denial::InvalidToken(TokenError::Client))
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
            peer_certificate: None,
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
fn a_request_that_waited_in_vain_is_still_only_reported() {
    let text = r#"{"providers":[{"name":"q","issuer":"https://q/","audiences":["api"],"jwks_cluster":"c"}],
                   "rules":[{"prefix":"/r","mode":"report"}]}"#;
    let cfg = Config::parse(text.as_bytes()).unwrap();
    let token = sign_rs256("k1", &claims("").replace("https://t/", "https://q/"));
    let auth = format!("Bearer {token}");
    for (path, reported) in [("/r", true), ("/x", false)] {
        let headers = [("authorization", auth.as_str())];
        let verdict = decide(
            &ctx(&cfg, NOW),
            &req(path, &headers),
            |_| None,
            &mut TokenCache::new(0),
        );
        let Verdict::NeedKeys { pending, .. } = verdict else {
            panic!("{verdict:?}")
        };
        let denial = Denial::KeysUnavailable { retry_after_s: 3 };
        let expected = if reported {
            Verdict::Report {
                headers: vec![],
                withheld: 0,
                would: Some(denial),
            }
        } else {
            Verdict::Deny(denial)
        };
        assert_eq!(give_up(&pending, 3), expected);
    }
}
