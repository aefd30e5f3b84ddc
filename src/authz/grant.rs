//! Stage 3: after the token itself: sender constraint, step-up, scopes and `claims`.

use super::request::Context;
use super::verdict::{invalid, Verdict};
use crate::claims::ClaimRule;
use crate::config::Config;
use crate::policy::{self, Requirement};
use crate::reject::Denial;
use crate::sender::check::{self, Presentation, Runtime, SenderError};
use crate::sender::scheme::Scheme;
use crate::token::Jws;
use crate::token::TokenError;
use crate::verify::Verified;

/// Admits a cached token if its provider, time window, sender, step-up and scopes
/// still fit.
pub(super) fn admit(
    ctx: &Context<'_>,
    need: &Requirement,
    hit: &Verified,
    p: &Presentation<'_>,
) -> Verdict {
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
pub(super) fn finish(
    ctx: &Context<'_>,
    need: &Requirement,
    v: &Verified,
    p: &Presentation<'_>,
) -> Verdict {
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

/// The sender-constraint step (see [`check::check`]).
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
        settings: &cfg.dpop,
        skew_s: cfg.clock_skew_s,
        store: &check::NoStore,
        secret: [0; 32],
        nonces: None,
        backend: &crate::signature::rustcrypto::RustCrypto,
    };
    let rt = ctx.sender.unwrap_or(&fallback);
    check::check(rt, provider.dpop, &provider.algorithms, &v.cnf, p, ctx.now)
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
pub(super) fn unmet_claims(cfg: &Config, jws: &Jws<'_>) -> Vec<ClaimRule> {
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
