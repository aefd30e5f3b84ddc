//! Decision tests for sender-constrained tokens (DPoP, mTLS) and step-up, through the
//! whole pipeline: cache hits and resumed requests check the sender too.

use super::*;
use crate::config::KeySource;
use crate::sender::check::{Runtime, SenderError};
use crate::sender::dpop::nonce::Nonces;
use crate::sender::dpop::proof::tests::{public_jwk, sign};
use crate::sender::dpop::proof::ProofError;
use crate::sender::scheme::SchemeError;
use crate::shared::fake::Fake;
use crate::signature::jwtsimple::JwtSimple;
use crate::signature::rustcrypto::RustCrypto;
use crate::testkeys::{self, sign_rs256};

const NOW: u64 = 1_800_000_000;
const CLIENT: [u8; 32] = [0x41; 32];
const URL: &str = "https://api.example.test/orders";

fn config(extra: &str) -> Config {
    let jwks = serde_json::to_string(&testkeys::jwks(&[testkeys::rsa_jwk("k1", true)])).unwrap();
    let text = format!(
        r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],"jwks":{jwks}}},
            {{"name":"q","issuer":"https://q/","audiences":["api"],"jwks_cluster":"c","dpop":"required"}}],
           "rules":[{{"prefix":"/step","acr_values":["mfa"],"max_age_s":300}}],
           "dpop_origin":"https://api.example.test"{extra}}}"#
    );
    Config::parse(text.as_bytes()).unwrap()
}

fn jkt() -> String {
    let jwk = crate::json::parse_object(public_jwk(&CLIENT).as_bytes()).unwrap();
    crate::sender::dpop::jwk::thumbprint(&jwk).unwrap()
}

fn token(issuer: &str, extra: &str) -> String {
    let claims = format!(
        r#"{{"iss":"{issuer}","aud":"api","exp":{},"cnf":{{"jkt":"{}"}}{extra}}}"#,
        NOW + 300,
        jkt()
    );
    sign_rs256("k1", &claims)
}

fn proof(token: &str, jti: &str, url: &str, nonce: Option<&str>) -> String {
    let header = format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
        public_jwk(&CLIENT)
    );
    let nonce = nonce.map_or(String::new(), |n| format!(r#","nonce":"{n}""#));
    let claims = format!(
        r#"{{"jti":"{jti}","htm":"GET","htu":"{url}","iat":{NOW},"ath":"{}"{nonce}}}"#,
        crate::sender::sha256_b64(token.as_bytes())
    );
    sign(&CLIENT, &header, &claims)
}

struct World {
    cfg: Config,
    store: Fake,
    nonces: Option<Nonces>,
    cache: TokenCache,
}

impl World {
    fn new(extra: &str) -> World {
        World {
            cfg: config(extra),
            store: Fake::default(),
            nonces: None,
            cache: TokenCache::new(16),
        }
    }

    fn run(&mut self, path: &str, auth: &str, proofs: &[&str]) -> Verdict {
        let rt = Runtime {
            settings: &self.cfg.dpop,
            skew_s: self.cfg.clock_skew_s,
            store: &self.store,
            secret: [3; 32],
            nonces: self.nonces.as_ref(),
            backend: &RustCrypto,
        };
        let ctx = Context {
            config: &self.cfg,
            now: NOW,
            backend: &JwtSimple,
            sender: Some(&rt),
        };
        let authorization = [("authorization", auth)];
        let req = Request {
            method: "GET",
            path,
            token_headers: if auth.is_empty() { &[] } else { &authorization },
            method_overrides: &[],
            dpop: proofs,
            origin: None,
            peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
            route: Default::default(),
        };
        let cfg = &self.cfg;
        decide(&ctx, &req, |i| inline(cfg, i), &mut self.cache)
    }
}

fn inline(cfg: &Config, i: usize) -> Option<&KeySet> {
    match &cfg.providers.get(i)?.keys {
        KeySource::Inline(k) => Some(k),
        KeySource::Remote(_) | KeySource::Discovered(_) => None,
    }
}

fn refused(e: SenderError) -> impl Fn(&Verdict) -> bool {
    move |v| matches!(v, Verdict::Deny(Denial::Sender { error, .. }) if *error == e)
}

#[test]
fn a_bound_token_needs_a_fresh_proof_even_when_cached() {
    let mut w = World::new("");
    let t = token("https://t/", "");
    let auth = format!("DPoP {t}");
    let p1 = proof(&t, "1", URL, None);
    assert!(matches!(
        w.run("/orders", &auth, &[&p1]),
        Verdict::Allow { .. }
    ));
    assert_eq!(w.cache.len(), 1);
    // The token is now cached; the proof is still checked, and used only once.
    let replayed = w.run("/orders", &auth, &[&p1]);
    assert!(
        refused(SenderError::Proof(ProofError::Replayed))(&replayed),
        "{replayed:?}"
    );
    let p2 = proof(&t, "2", URL, None);
    assert!(matches!(
        w.run("/orders", &auth, &[&p2]),
        Verdict::Allow { .. }
    ));
    let elsewhere = proof(&t, "3", "https://api.example.test/other", None);
    let v = w.run("/orders", &auth, &[&elsewhere]);
    assert!(refused(SenderError::Proof(ProofError::Uri))(&v), "{v:?}");
    assert!(refused(SenderError::Proof(ProofError::Missing))(&w.run(
        "/orders",
        &auth,
        &[]
    )));
    // The binding is the point: the same token as Bearer is refused.
    let v = w.run("/orders", &format!("Bearer {t}"), &[]);
    assert!(
        refused(SenderError::Scheme(SchemeError::BoundAsBearer))(&v),
        "{v:?}"
    );
}

#[test]
fn a_proof_alone_is_not_credentials() {
    let mut w = World::new("");
    let t = token("https://t/", "");
    let p = proof(&t, "1", URL, None);
    assert_eq!(
        w.run("/orders", "", &[&p]),
        Verdict::Deny(Denial::InvalidRequest("DPoP proof without an access token"))
    );
}

#[test]
fn nonces_are_asked_for_then_accepted() {
    let mut w = World::new(r#","dpop_nonce":true"#);
    w.nonces = Some(Nonces::new([3; 32]));
    let t = token("https://t/", "");
    let auth = format!("DPoP {t}");
    let v = w.run("/orders", &auth, &[&proof(&t, "1", URL, None)]);
    let Verdict::Deny(denial @ Denial::Sender { nonce: Some(n), .. }) = &v else {
        panic!("{v:?}");
    };
    assert_eq!(denial.reason().name(), "dpop_nonce");
    let p = proof(&t, "2", URL, Some(n));
    assert!(matches!(
        w.run("/orders", &auth, &[&p]),
        Verdict::Allow { .. }
    ));
}

#[test]
fn without_shared_data_bound_tokens_fail_closed() {
    let cfg = config("");
    let t = token("https://t/", "");
    let auth = [format!("DPoP {t}")];
    let auth: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    let p = proof(&t, "1", URL, None);
    let ctx = Context {
        config: &cfg,
        now: NOW,
        backend: &JwtSimple,
        sender: None,
    };
    let req = Request {
        method: "GET",
        path: "/orders",
        token_headers: &auth,
        method_overrides: &[],
        dpop: &[&p],
        origin: None,
        peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
        route: Default::default(),
    };
    let v = decide(&ctx, &req, |i| inline(&cfg, i), &mut TokenCache::new(0));
    assert!(
        refused(SenderError::Proof(ProofError::Unrecorded))(&v),
        "{v:?}"
    );
}

#[test]
fn a_resumed_request_keeps_its_proof() {
    let mut w = World::new("");
    let t = token("https://q/", "");
    let auth = format!("DPoP {t}");
    let p = proof(&t, "1", URL, None);
    let Verdict::NeedKeys { provider, pending } = w.run("/orders", &auth, &[&p]) else {
        panic!("provider q has no keys yet");
    };
    assert_eq!(provider, 1);
    let rt = Runtime {
        settings: &w.cfg.dpop,
        skew_s: w.cfg.clock_skew_s,
        store: &w.store,
        secret: [3; 32],
        nonces: None,
        backend: &RustCrypto,
    };
    let ctx = Context {
        config: &w.cfg,
        now: NOW,
        backend: &JwtSimple,
        sender: Some(&rt),
    };
    let keys = inline(&w.cfg, 0);
    let v = resume(&ctx, pending.clone(), |_| keys, &mut w.cache);
    assert!(matches!(v, Verdict::Allow { .. }), "{v:?}");
    // Resuming the same request again replays its proof.
    let v = resume(&ctx, pending, |_| keys, &mut TokenCache::new(0));
    assert!(
        refused(SenderError::Proof(ProofError::Replayed))(&v),
        "{v:?}"
    );
}

#[test]
fn step_up_rules_read_acr_and_auth_time_also_from_the_cache() {
    let mut w = World::new("");
    let plain = |extra: &str| {
        let claims = format!(
            r#"{{"iss":"https://t/","aud":"api","exp":{}{extra}}}"#,
            NOW + 300
        );
        format!("Bearer {}", sign_rs256("k1", &claims))
    };
    let strong = plain(&format!(r#","acr":"mfa","auth_time":{}"#, NOW - 10));
    assert!(matches!(
        w.run("/step", &strong, &[]),
        Verdict::Allow { .. }
    ));
    assert!(matches!(
        w.run("/step", &strong, &[]),
        Verdict::Allow { .. }
    ));
    let weak = plain(&format!(r#","acr":"pwd","auth_time":{}"#, NOW - 10));
    for _ in 0..2 {
        let v = w.run("/step", &weak, &[]);
        let Verdict::Deny(d @ Denial::StepUp { insufficient, .. }) = &v else {
            panic!("{v:?}");
        };
        assert_eq!(insufficient.acr_values, "mfa");
        assert_eq!(insufficient.max_age_s, Some(300));
        assert_eq!(d.reason().name(), "insufficient_user_authentication");
    }
    let stale = plain(&format!(r#","acr":"mfa","auth_time":{}"#, NOW - 1000));
    assert!(matches!(
        w.run("/step", &stale, &[]),
        Verdict::Deny(Denial::StepUp { .. })
    ));
    // Other routes do not look at acr.
    assert!(matches!(w.run("/other", &weak, &[]), Verdict::Allow { .. }));
}

#[test]
fn certificate_bound_tokens_need_that_certificate() {
    let cfg = config("");
    let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let claims = format!(
        r#"{{"iss":"https://t/","aud":"api","exp":{},"cnf":{{"x5t#S256":"47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"}}}}"#,
        NOW + 300
    );
    let auth = [format!("Bearer {}", sign_rs256("k1", &claims))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    let ctx = Context {
        config: &cfg,
        now: NOW,
        backend: &JwtSimple,
        sender: None,
    };
    let mut cache = TokenCache::new(16);
    let mut with = |peer: Option<&str>| {
        let req = Request {
            method: "GET",
            path: "/x",
            token_headers: &auth,
            method_overrides: &[],
            dpop: &[],
            origin: None,
            peer_certificate: &peer,
            route: Default::default(),
        };
        decide(&ctx, &req, |i| inline(&cfg, i), &mut cache)
    };
    assert!(matches!(with(Some(hex)), Verdict::Allow { .. }));
    let v = with(Some(&hex.replace('e', "f")));
    let Verdict::Deny(d) = &v else {
        panic!("{v:?}")
    };
    assert_eq!(d.reason().name(), "mtls_other_certificate");
    assert!(d
        .reply()
        .body
        .contains("token bound to another certificate"));
    let v = with(None);
    assert!(matches!(&v, Verdict::Deny(d) if d.reason().name() == "mtls_no_certificate"));
}

#[test]
fn configuration_keys_name_their_fields() {
    let bad = |extra: &str| {
        let jwks =
            serde_json::to_string(&testkeys::jwks(&[testkeys::rsa_jwk("k1", true)])).unwrap();
        let text = format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],"jwks":{jwks}{extra}}}]}}"#
        );
        Config::parse(text.as_bytes()).unwrap_err().field
    };
    assert_eq!(bad(r#","dpop":"sometimes""#), "providers[p].dpop");
    assert_eq!(bad(r#","dpop":true"#), "providers[p].dpop");
    let top = |extra: &str| {
        let jwks =
            serde_json::to_string(&testkeys::jwks(&[testkeys::rsa_jwk("k1", true)])).unwrap();
        let text = format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],"jwks":{jwks}}}]{extra}}}"#
        );
        Config::parse(text.as_bytes())
            .map(|_| ())
            .map_err(|e| e.field)
    };
    assert_eq!(top(r#","dpop_nonce":"yes""#), Err("dpop_nonce".into()));
    assert_eq!(
        top(r#","dpop_proof_window_s":0"#),
        Err("dpop_proof_window_s".into())
    );
    assert_eq!(
        top(r#","dpop_origin":"api.example""#),
        Err("dpop_origin".into())
    );
    assert_eq!(
        top(r#","rules":[{"prefix":"/","max_age_s":-1}]"#),
        Err("rules[0].max_age_s".into())
    );
    assert_eq!(
        top(r#","rules":[{"prefix":"/","acr_values":"mfa"}]"#),
        Err("rules[0].acr_values".into())
    );
    assert_eq!(
        top(r#","resource_metadata":{"resource":"https://a","resource_nmae":"x"}"#),
        Err("resource_metadata".into())
    );
    assert_eq!(
        top(r#","resource_metadata":{"resource":"https://a"}"#),
        Ok(())
    );
}
