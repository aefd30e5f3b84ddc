//! One request's verdict, read in the request's order: route requirement (over every
//! reading of path and method), credentials, verified-token cache, token parsing,
//! issuer, keys, verification, token profile and client, scopes, claims. A request that
//! needs newer keys stops with a [`Pending`] and [`resume`]s where it stopped once the
//! host has them. On a `report`-mode route the verdict becomes [`Verdict::Report`].

pub mod forward;
#[cfg(test)]
mod sender_tests;
#[cfg(test)]
mod tests;

use crate::cache::{self, Digest, TokenCache, Verified};
use crate::claims::ClaimRule;
use crate::config::Config;
use crate::dpop::gate::{self, Gate, Presentation, Runtime, SenderError, Sent};
use crate::dpop::htu::Origin;
use crate::dpop::scheme::{self, Confirmation, Presented, Scheme};
use crate::jwks::{KeyId, KeySet};
use crate::policy::{self, Requirement};
use crate::reject::{Denial, TokenError};
use crate::sources::TokenSource;
use crate::stepup::AuthContext;
use crate::token::{Credentials, Jws};
use crate::verify::{self, SignatureCheck};
use crate::{profile, sources, token};

/// The parts of a request the decision reads.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The values of the headers the token sources read ([`Config::token_headers`]), as
    /// (lower-case name, value) pairs in request order; a name may repeat.
    pub token_headers: &'a [(&'a str, &'a str)],
    /// Values of the method-override headers ([`Config::method_override_headers`]).
    pub method_overrides: &'a [&'a str],
    /// Every `DPoP` header value.
    pub dpop: &'a [&'a str],
    /// `:scheme` + `:authority`, which DPoP's `htu` names (unless `dpop_origin` is set).
    pub origin: Option<&'a Origin>,
    /// The client certificate's SHA-256 in hex, on a mutual-TLS connection.
    pub peer_certificate: Option<&'a str>,
}

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through, adding these headers; `withheld` claim values were not forwarded
    /// because a hop would change them (count them, log at debug without the value).
    Allow {
        headers: Vec<(String, String)>,
        withheld: u32,
    },
    /// Refuse it.
    Deny(Denial),
    /// A `report`-mode route: let it through whatever the verdict. `would` is the refusal
    /// enforcement would answer (count it, log it at info without the token); `headers`
    /// are set only for a verified token (never claims of one that did not verify).
    Report {
        headers: Vec<(String, String)>,
        withheld: u32,
        would: Option<Denial>,
    },
    /// Provider `provider` has no keys yet, none with the token's `kid`, or its key under
    /// that `kid` did not verify the signature: the host fetches newer keys (rate-limited
    /// by `refetch_cooldown_s` unless it is a first fetch) and calls [`resume`], or
    /// answers [`Pending::give_up`] when no fetch can be had.
    NeedKeys { provider: usize, pending: Pending },
}

/// A request waiting for keys: what [`resume`] needs to finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The bearer token's text.
    pub token: String,
    /// The route requirement, already judged.
    pub need: Requirement,
    /// The token's cache key (when the cache is on).
    pub digest: Option<Digest>,
    /// The answer if no newer keys arrive: `KeysUnavailable` (no keys at all),
    /// `InvalidToken(UnknownKey)` or `InvalidToken(Signature)`.
    pub fallback: Denial,
    /// The key that failed the signature, so an unchanged key is not tried again.
    pub failed_key: Option<KeyId>,
    /// The scheme, DPoP proofs and connection facts the sender is checked with.
    pub sent: Box<Sent>,
}

impl Pending {
    /// The final answer when no (newer) keys can be had; `retry_after_s` goes into a
    /// `KeysUnavailable` answer's `Retry-After`.
    pub fn give_up(&self, retry_after_s: u64) -> Denial {
        match self.fallback {
            Denial::KeysUnavailable { .. } => Denial::KeysUnavailable { retry_after_s },
            ref other => other.clone(),
        }
    }

    /// Whether the provider has keys and a newer set is wanted (unknown `kid` or failed
    /// signature: a cooldown-limited refetch), rather than a first set.
    pub fn is_refetch(&self) -> bool {
        !matches!(self.fallback, Denial::KeysUnavailable { .. })
    }
}

/// Shared inputs of a decision.
pub struct Context<'a> {
    pub config: &'a Config,
    /// Seconds since the epoch.
    pub now: u64,
    pub backend: &'a dyn SignatureCheck,
    /// Shared data and secrets for DPoP; without them DPoP-bound tokens are refused.
    pub sender: Option<&'a Runtime<'a>>,
}

/// Decides what to do with `req`. `keys(i)` gives provider `i`'s keys, if loaded.
pub fn decide<'k>(
    ctx: &Context<'_>,
    req: &Request<'_>,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let need = match policy::requirement(ctx.config, req.method, req.path, req.method_overrides) {
        Ok(need) => need,
        Err(denial) => return Verdict::Deny(denial),
    };
    let report = need.report;
    reported(report, enforce(ctx, req, need, keys, cache))
}

/// The final answer for a request that waited in vain (no newer keys can be had): its
/// fallback, with `retry_after_s` for a `KeysUnavailable`, reported on a `report` route.
pub fn give_up(pending: &Pending, retry_after_s: u64) -> Verdict {
    reported(
        pending.need.report,
        Verdict::Deny(pending.give_up(retry_after_s)),
    )
}

/// `verdict` as a `report`-mode route answers it: always through.
fn reported(report: bool, verdict: Verdict) -> Verdict {
    match verdict {
        Verdict::Allow { headers, withheld } if report => Verdict::Report {
            headers,
            withheld,
            would: None,
        },
        Verdict::Deny(denial) if report => Verdict::Report {
            headers: vec![],
            withheld: 0,
            would: Some(denial),
        },
        other => other,
    }
}

/// The verdict as enforced.
fn enforce<'k>(
    ctx: &Context<'_>,
    req: &Request<'_>,
    need: Requirement,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let lookup = |name: &str| {
        req.token_headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect()
    };
    // A `DPoP` token (RFC 9449 §7.1) is read from `Authorization`, when that header is a
    // token source and no source holds a bearer token.
    let authorization: Vec<&str> = if ctx.config.token_sources.contains(&TokenSource::bearer()) {
        lookup("authorization")
    } else {
        vec![]
    };
    let (scheme, token) = match sources::extract(&ctx.config.token_sources, lookup) {
        Credentials::Bearer(token) => (Scheme::Bearer, token),
        Credentials::Invalid(why) => return Verdict::Deny(Denial::InvalidRequest(why)),
        Credentials::None => match scheme::extract(&authorization) {
            Presented::Token(Scheme::Dpop, token) => (Scheme::Dpop, token),
            Presented::Invalid(why) => return Verdict::Deny(Denial::InvalidRequest(why)),
            Presented::None | Presented::Token(Scheme::Bearer, _) if need.allow_anonymous => {
                return Verdict::Allow {
                    headers: vec![],
                    withheld: 0,
                }
            }
            Presented::None | Presented::Token(Scheme::Bearer, _) if !req.dpop.is_empty() => {
                return Verdict::Deny(Denial::InvalidRequest("DPoP proof without an access token"))
            }
            Presented::None | Presented::Token(Scheme::Bearer, _) => {
                return Verdict::Deny(Denial::MissingToken)
            }
        },
    };
    let presented = Presentation {
        scheme,
        token,
        proofs: req.dpop,
        method: req.method,
        path: req.path,
        origin: req.origin,
        peer_certificate: req.peer_certificate,
    };
    let digest = cache.enabled().then(|| cache::digest(token));
    if let Some(hit) = digest.as_ref().and_then(|d| cache.lookup(d)) {
        // A cached token was verified once, by key material the provider must still
        // publish; its provider, time window and scopes are checked anew.
        if keys(hit.provider).is_some_and(|set| set.contains(&hit.key)) {
            return admit(ctx, &need, hit, &presented);
        }
    }
    let held = Held {
        token,
        need,
        digest,
        failed_key: None,
        presented,
    };
    judge(ctx, held, false, keys, cache)
}

/// Finishes a request that waited for keys: judges its token once more with the keys
/// now loaded, without re-reading the request. Unknown `kid` and failed signatures are
/// final now; only a provider still without keys gives `NeedKeys` again.
pub fn resume<'k>(
    ctx: &Context<'_>,
    pending: Pending,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let proofs: Vec<&str> = pending.sent.proofs.iter().map(String::as_str).collect();
    let report = pending.need.report;
    let held = Held {
        token: &pending.token,
        need: pending.need,
        digest: pending.digest,
        failed_key: pending.failed_key,
        presented: pending.sent.presentation(&pending.token, &proofs),
    };
    reported(report, judge(ctx, held, true, keys, cache))
}

/// A token on its way through [`judge`].
struct Held<'t> {
    token: &'t str,
    need: Requirement,
    digest: Option<Digest>,
    failed_key: Option<KeyId>,
    presented: Presentation<'t>,
}

impl Held<'_> {
    fn pending(self, fallback: Denial, failed_key: Option<KeyId>) -> Pending {
        Pending {
            token: self.token.to_string(),
            need: self.need,
            digest: self.digest,
            fallback,
            failed_key,
            sent: Box::new(Sent::of(&self.presented)),
        }
    }
}

fn invalid(e: TokenError) -> Verdict {
    Verdict::Deny(Denial::InvalidToken(e))
}

/// Verifies a token not found in the cache (or resumed) and admits it or says why not.
fn judge<'k>(
    ctx: &Context<'_>,
    held: Held<'_>,
    resumed: bool,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let cfg = ctx.config;
    let jws = match token::parse(held.token, cfg.max_token_bytes) {
        Ok(jws) => jws,
        Err(e) => return invalid(e),
    };
    let issuer = jws.claims.issuer.as_deref().unwrap_or("");
    let Some((index, provider)) = cfg.provider_for(issuer) else {
        return invalid(TokenError::UnknownIssuer);
    };
    if !held.need.accepts(index) {
        return invalid(TokenError::IssuerNotAccepted);
    }
    let Some(keyset) = keys(index) else {
        // Check what needs no keys first: an expired token gets its 401 even in an outage.
        if let Err(e) = verify::check_claims(&jws.claims, provider, ctx.now, cfg.clock_skew_s) {
            return invalid(e);
        }
        let pending = held.pending(Denial::KeysUnavailable { retry_after_s: 1 }, None);
        return Verdict::NeedKeys {
            provider: index,
            pending,
        };
    };
    let key_under_kid = jws
        .kid
        .as_deref()
        .and_then(|kid| keyset.candidates(Some(kid), jws.alg).next())
        .map(|k| k.id);
    if resumed && held.failed_key.is_some() && key_under_kid == held.failed_key {
        // The refetch brought the same key: the signature fails as it did.
        return invalid(TokenError::Signature);
    }
    let result = verify::verify(
        &jws,
        provider,
        keyset,
        ctx.now,
        cfg.clock_skew_s,
        ctx.backend,
    );
    match result {
        Ok((window, key)) => {
            if let Err(why) = provider.profile.check(jws.typ.as_deref(), &jws.claims) {
                return invalid(TokenError::Profile(why));
            }
            if !profile::client_accepted(&provider.clients, &jws.claims) {
                return invalid(TokenError::Client);
            }
            let Ok(cnf) = Confirmation::of(&jws.claims) else {
                let denial = Denial::sender(SenderError::Confirmation, held.presented.scheme, None);
                return Verdict::Deny(denial);
            };
            let (headers, withheld) = forward::headers(cfg, provider, &jws);
            let verified = Verified {
                provider: index,
                key,
                window,
                granted: policy::granted_scopes(&jws.claims),
                headers,
                withheld,
                cnf,
                auth: AuthContext::of(&jws.claims),
                unmet: unmet_claims(cfg, &jws),
            };
            let verdict = finish(ctx, &held.need, &verified, &held.presented);
            if let Some(digest) = held.digest {
                cache.insert(digest, verified, ctx.now, cfg.clock_skew_s);
            }
            verdict
        }
        Err(e @ (TokenError::UnknownKey | TokenError::Signature))
            if !resumed && jws.kid.is_some() =>
        {
            let failed = (e == TokenError::Signature)
                .then_some(key_under_kid)
                .flatten();
            Verdict::NeedKeys {
                provider: index,
                pending: held.pending(Denial::InvalidToken(e), failed),
            }
        }
        Err(e) => invalid(e),
    }
}

/// Admits a cached token if its provider, time window, sender, step-up and scopes
/// still fit.
fn admit(ctx: &Context<'_>, need: &Requirement, hit: &Verified, p: &Presentation<'_>) -> Verdict {
    if !need.accepts(hit.provider) {
        return invalid(TokenError::IssuerNotAccepted);
    }
    match hit.window.check(ctx.now, ctx.config.clock_skew_s) {
        Ok(()) => finish(ctx, need, hit, p),
        Err(e) => invalid(e),
    }
}

/// After the token itself: is the sender the one it was issued to (DPoP, mTLS), did the
/// user sign in as the route demands (step-up), does it grant the scopes.
fn finish(ctx: &Context<'_>, need: &Requirement, v: &Verified, p: &Presentation<'_>) -> Verdict {
    if let Err(e) = sender(ctx, v, p) {
        let nonce = ctx
            .sender
            .and_then(|rt| rt.nonces)
            .filter(|_| matches!(e, SenderError::Proof(_)))
            .map(|n| n.current(ctx.now));
        return Verdict::Deny(Denial::sender(e, p.scheme, nonce));
    }
    if let Some(step_up) = &need.step_up {
        if let Err(insufficient) = step_up.check(&v.auth, ctx.now, ctx.config.clock_skew_s) {
            return Verdict::Deny(Denial::StepUp {
                insufficient: Box::new(insufficient),
                scheme: p.scheme,
            });
        }
    }
    grant(need, v)
}

/// The sender-constraint step (see [`gate::check`]).
fn sender(ctx: &Context<'_>, v: &Verified, p: &Presentation<'_>) -> Result<(), SenderError> {
    let cfg = ctx.config;
    let Some(provider) = cfg.providers.get(v.provider) else {
        return Ok(());
    };
    let unbound = v.cnf.jkt.is_none() && v.cnf.x5t_s256.is_none();
    if unbound && p.scheme == Scheme::Bearer && provider.dpop.accepts_bearer() {
        // The common case needs neither shared data nor a proof.
        return Ok(());
    }
    let fallback = Runtime {
        store: &gate::NoStore,
        secret: [0; 32],
        nonces: None,
        backend: &crate::dpop::raw::RawSignature,
    };
    let rt = ctx.sender.unwrap_or(&fallback);
    let gate = Gate {
        settings: &cfg.dpop,
        skew_s: cfg.clock_skew_s,
        nonces: rt.nonces,
        store: rt.store,
        secret: &rt.secret,
        backend: rt.backend,
    };
    gate::check(
        &gate,
        provider.dpop,
        &provider.algorithms,
        &v.cnf,
        p,
        ctx.now,
    )
}

/// Allows a verified token if it grants every scope the route requires and meets every
/// `claims` condition.
fn grant(need: &Requirement, verified: &Verified) -> Verdict {
    if !policy::missing_scopes(&need.scopes, &verified.granted).is_empty() {
        return Verdict::Deny(Denial::InsufficientScope(need.scopes.clone()));
    }
    if let Some(unmet) = need.claims.iter().find(|c| verified.unmet.contains(c)) {
        return Verdict::Deny(Denial::ClaimRule(unmet.name()));
    }
    Verdict::Allow {
        headers: verified.headers.clone(),
        withheld: verified.withheld,
    }
}

/// Every configured `claims` condition the token fails, judged once per verification.
fn unmet_claims(cfg: &Config, jws: &Jws<'_>) -> Vec<ClaimRule> {
    if !cfg.has_claim_rules() {
        return Vec::new();
    }
    let payload = match serde_json::to_value(&jws.claims) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let mut unmet: Vec<ClaimRule> = Vec::new();
    for c in cfg.rules.iter().flat_map(|r| &r.claims) {
        if !unmet.contains(c) && !c.holds(&payload) {
            unmet.push(c.clone());
        }
    }
    unmet
}
