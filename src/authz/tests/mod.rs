//! Decision tests, by stage; the helpers every stage's tests share.

mod credentials;
mod grant;
mod keys;
mod sender;

use super::*;
use crate::alg::Algorithm;
use crate::cache::TokenCache;
use crate::config::{Config, KeySource};
use crate::jwks::KeySet;
use crate::reject::Denial;
use crate::signature::jwtsimple::JwtSimple;
use crate::testkeys::{self, sign_es256, sign_es256_next, sign_rs256};
use crate::token::TokenError;

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
        peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
        route: Default::default(),
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
