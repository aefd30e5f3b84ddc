//! After the token: scopes, `claims`, withheld claim values, cache hits, `report` mode.

use super::*;

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
