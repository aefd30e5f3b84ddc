//! One request's verdict, from the pure parts: route rule, credentials, verified-token
//! cache, token parsing, issuer, keys, verification and scopes.

use crate::cache::{self, TokenCache, Verified};
use crate::config::Config;
use crate::jwks::KeySet;
use crate::policy;
use crate::reject::{Denial, TokenError};
use crate::token::{self, Credentials, Jws};
use crate::verify::{self, SignatureCheck};
use serde_json::Value;

/// Longest header value the filter forwards; longer claims are not forwarded.
const MAX_FORWARDED_VALUE: usize = 8 * 1024;

/// The parts of a request the decision reads.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub authorization: &'a [&'a str],
}

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through, adding these headers.
    Allow { headers: Vec<(String, String)> },
    /// Refuse it.
    Deny(Denial),
    /// The token's issuer has no keys yet, or none with the token's `kid`: the host must
    /// fetch them (then decide again) or give up with [`Verdict::give_up`].
    NeedKeys { provider: usize, unknown_kid: bool },
}

impl Verdict {
    /// The final answer for a [`Verdict::NeedKeys`] when no (more) keys can be had.
    pub fn give_up(unknown_kid: bool, retry_after_s: u64) -> Denial {
        if unknown_kid {
            Denial::InvalidToken(TokenError::UnknownKey)
        } else {
            Denial::KeysUnavailable { retry_after_s }
        }
    }
}

/// Shared inputs of a decision.
pub struct Context<'a> {
    pub config: &'a Config,
    /// Seconds since the epoch.
    pub now: u64,
    pub backend: &'a dyn SignatureCheck,
}

/// Decides what to do with `req`. `keys(i)` gives provider `i`'s keys, if loaded.
pub fn decide<'k>(
    ctx: &Context<'_>,
    req: &Request<'_>,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let cfg = ctx.config;
    let need = policy::requirement(&cfg.rules, req.method, req.path);
    let token = match token::extract(req.authorization) {
        Credentials::None if need.allow_anonymous => return Verdict::Allow { headers: vec![] },
        Credentials::None => return Verdict::Deny(Denial::MissingToken),
        Credentials::Invalid(why) => return Verdict::Deny(Denial::InvalidRequest(why)),
        Credentials::Bearer(token) => token,
    };
    let digest = cache.enabled().then(|| cache::digest(token));
    if let Some(hit) = digest.as_ref().and_then(|d| cache.lookup(d)) {
        // A cached token was verified once; its time window and scopes are checked anew.
        return match hit.window.check(ctx.now, cfg.clock_skew_s) {
            Ok(()) => grant(need.scopes, &hit.granted, &hit.headers),
            Err(e) => Verdict::Deny(Denial::InvalidToken(e)),
        };
    }
    match verify_fresh(ctx, token, keys) {
        Ok(verified) => {
            let verdict = grant(need.scopes, &verified.granted, &verified.headers);
            if let Some(digest) = digest {
                cache.insert(digest, verified, ctx.now, cfg.clock_skew_s);
            }
            verdict
        }
        Err(verdict) => verdict,
    }
}

/// Allows a verified token if it grants every scope the route requires.
fn grant(required: &[String], granted: &[String], headers: &[(String, String)]) -> Verdict {
    if policy::missing_scopes(required, granted).is_empty() {
        Verdict::Allow {
            headers: headers.to_vec(),
        }
    } else {
        Verdict::Deny(Denial::InsufficientScope(required.to_vec()))
    }
}

fn verify_fresh<'k>(
    ctx: &Context<'_>,
    token: &str,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
) -> Result<Verified, Verdict> {
    let cfg = ctx.config;
    let invalid = |e| Verdict::Deny(Denial::InvalidToken(e));
    let jws = token::parse(token, cfg.max_token_bytes).map_err(invalid)?;
    let issuer = jws.claims.issuer.as_deref().unwrap_or("");
    let (index, provider) = cfg
        .provider_for(issuer)
        .ok_or(invalid(TokenError::UnknownIssuer))?;
    let Some(keyset) = keys(index) else {
        // Check what needs no keys first: an expired token gets its 401 even in an outage.
        verify::check_claims(&jws.claims, provider, ctx.now, cfg.clock_skew_s).map_err(invalid)?;
        return Err(Verdict::NeedKeys {
            provider: index,
            unknown_kid: false,
        });
    };
    match verify::verify(
        &jws,
        provider,
        keyset,
        ctx.now,
        cfg.clock_skew_s,
        ctx.backend,
    ) {
        Ok((window, kid)) => Ok(Verified {
            provider: index,
            kid,
            window,
            granted: policy::granted_scopes(&jws.claims),
            headers: forwarded_headers(cfg, &jws),
        }),
        Err(TokenError::UnknownKey) if jws.kid.is_some() => Err(Verdict::NeedKeys {
            provider: index,
            unknown_kid: true,
        }),
        Err(e) => Err(invalid(e)),
    }
}

/// The claim and payload headers configured for the upstream.
fn forwarded_headers(cfg: &Config, jws: &Jws<'_>) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if !cfg.forward_claims.is_empty() {
        let claims = serde_json::to_value(&jws.claims).unwrap_or(Value::Null);
        for (claim, header) in &cfg.forward_claims {
            let value = match claims.get(claim) {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            if value.len() <= MAX_FORWARDED_VALUE && !value.chars().any(char::is_control) {
                headers.push((header.clone(), value));
            }
        }
    }
    if let Some(header) = &cfg.forward_payload_header {
        headers.push((header.clone(), jws.payload_b64.to_string()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KeySource;
    use crate::testkeys::{self, sign_rs256};
    use crate::verify::JwtSimple;

    const NOW: u64 = 1_800_000_000;

    fn config(extra: &str) -> Config {
        let jwks =
            serde_json::to_string(&testkeys::jwks(&[testkeys::rsa_jwk("k1", true)])).unwrap();
        let text = format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],"jwks":{jwks}}},
                {{"name":"q","issuer":"https://q/","audiences":["api"],"jwks_cluster":"c"}}],
               "rules":[{{"prefix":"/public","allow_anonymous":true}},
                        {{"prefix":"/admin","scopes":["write:admin"]}}]{extra}}}"#
        );
        Config::parse(text.as_bytes()).unwrap()
    }

    fn claims(extra: &str) -> String {
        format!(
            r#"{{"iss":"https://t/","aud":["api"],"exp":{},"sub":"u1"{extra}}}"#,
            NOW + 300
        )
    }

    fn run(cfg: &Config, path: &str, auth: &[&str], cache: &mut TokenCache, now: u64) -> Verdict {
        let ctx = Context {
            config: cfg,
            now,
            backend: &JwtSimple,
        };
        let req = Request {
            method: "GET",
            path,
            authorization: auth,
        };
        decide(
            &ctx,
            &req,
            |i| match &cfg.providers[i].keys {
                KeySource::Inline(k) => Some(k),
                KeySource::Remote(_) => None,
            },
            cache,
        )
    }

    fn once(cfg: &Config, path: &str, auth: &[&str]) -> Verdict {
        run(cfg, path, auth, &mut TokenCache::new(0), NOW)
    }

    #[test]
    fn anonymous_routes_and_missing_tokens() {
        let cfg = config("");
        assert_eq!(
            once(&cfg, "/public/x", &[]),
            Verdict::Allow { headers: vec![] }
        );
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
    }

    #[test]
    fn valid_token_allowed_with_scopes_enforced() {
        let cfg = config(
            r#","forward_claims":{"sub":"x-sub","aud":"x-aud"},"forward_payload_header":"x-payload""#,
        );
        let token = sign_rs256("k1", &claims(r#","scope":"read write:admin""#));
        let auth = format!("Bearer {token}");
        let Verdict::Allow { headers } = once(&cfg, "/admin", &[&auth]) else {
            panic!()
        };
        assert!(headers.contains(&("x-sub".into(), "u1".into())));
        assert!(headers.contains(&("x-aud".into(), r#"["api"]"#.into())));
        let payload = headers.iter().find(|(h, _)| h == "x-payload").unwrap();
        assert!(token.contains(&payload.1));
        let weak = format!("Bearer {}", sign_rs256("k1", &claims(r#","scope":"read""#)));
        assert_eq!(
            once(&cfg, "/admin", &[&weak]),
            Verdict::Deny(Denial::InsufficientScope(vec!["write:admin".into()]))
        );
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
        assert_eq!(
            once(&cfg, "/", &[&auth]),
            Verdict::NeedKeys {
                provider: 0,
                unknown_kid: true
            }
        );
        let q = claims("").replace("https://t/", "https://q/");
        let auth = format!("Bearer {}", sign_rs256("k1", &q));
        assert_eq!(
            once(&cfg, "/", &[&auth]),
            Verdict::NeedKeys {
                provider: 1,
                unknown_kid: false
            }
        );
        let expired = q.replace(&(NOW + 300).to_string(), &(NOW - 300).to_string());
        let auth = format!("Bearer {}", sign_rs256("k1", &expired));
        assert_eq!(
            once(&cfg, "/", &[&auth]),
            Verdict::Deny(Denial::InvalidToken(TokenError::Expired))
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
    fn give_up_answers() {
        assert_eq!(
            Verdict::give_up(true, 5),
            Denial::InvalidToken(TokenError::UnknownKey)
        );
        assert_eq!(
            Verdict::give_up(false, 5),
            Denial::KeysUnavailable { retry_after_s: 5 }
        );
    }
}
