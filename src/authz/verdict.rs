//! What the decision says: let the request through, refuse it, report it, or wait for
//! keys ([`Pending`]).

use crate::cache::Digest;
use crate::jwks::KeyId;
use crate::policy::Requirement;
use crate::reject::Denial;
use crate::sender::check::Sent;
use crate::token::TokenError;

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
    /// by `refetch_cooldown_s` unless it is a first fetch) and calls [`super::resume`], or
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

/// A refusal for an invalid token.
pub(super) fn invalid(e: TokenError) -> Verdict {
    Verdict::Deny(Denial::InvalidToken(e))
}
