//! One request's verdict, read in the request's order: route requirement (over every
//! reading of path and method), credentials, verified-token cache, token parsing,
//! issuer, keys, verification, token profile and client, scopes, claims. A request that
//! needs newer keys stops with a [`Pending`] and [`resume`]s where it stopped once the
//! host has them. On a `report`-mode route the verdict becomes [`Verdict::Report`].

mod credentials;
pub mod forward;
mod grant;
mod judge;
mod request;
#[cfg(test)]
mod tests;
mod verdict;

pub use request::{Context, Request};
pub use verdict::{Pending, Verdict};

use crate::cache::TokenCache;
use crate::jwks::KeySet;
use crate::policy;
use credentials::enforce;
use judge::{judge, Case};

/// Decides what to do with `req`. `keys(i)` gives provider `i`'s keys, if loaded.
pub fn decide<'k>(
    ctx: &Context<'_>,
    req: &Request<'_>,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let need = match policy::requirement(
        ctx.config,
        req.method,
        req.path,
        req.method_overrides,
        &req.route,
    ) {
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
    let case = Case {
        token: &pending.token,
        need: pending.need,
        digest: pending.digest,
        failed_key: pending.failed_key,
        presented: pending.sent.presentation(&pending.token, &proofs),
    };
    reported(report, judge(ctx, case, true, keys, cache))
}
