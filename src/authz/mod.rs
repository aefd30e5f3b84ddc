//! One request's verdict, read in the request's order: route requirement (over every
//! reading of path and method), credentials, verified-token cache, token parsing,
//! issuer, keys, verification, token profile and client, scopes, claims. A request that
//! needs newer keys stops with a [`Pending`] and [`resume`]s where it stopped once the
//! host has them. On a `report`-mode route the verdict becomes [`Verdict::Report`].

mod credentials;
pub mod forward;
mod grant;
mod judge;
#[cfg(test)]
mod tests;

use crate::cache::{Digest, TokenCache};
use crate::config::Config;
use crate::jwks::{KeyId, KeySet};
use crate::policy::{self, Requirement};
use crate::reject::Denial;
use crate::sender::check::{Runtime, Sent};
use crate::sender::dpop::htu::Origin;
use crate::signature::SignatureCheck;

use credentials::enforce;
use judge::{judge, Held};

/// The parts of a request the decision reads.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The request method (`:method`).
    pub method: &'a str,
    /// The request target (`:path`), query included.
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
    /// The plugin configuration.
    pub config: &'a Config,
    /// Seconds since the epoch.
    pub now: u64,
    /// What checks signatures (jwt-simple, the host, or both).
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
