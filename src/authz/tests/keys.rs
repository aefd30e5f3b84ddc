//! Issuers, keys, a provider per route, and requests that wait for keys and resume.

use super::*;

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
