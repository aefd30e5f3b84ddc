//! Requests held while keys are fetched: each keeps where its decision stopped and goes
//! on from there once its provider's keys change, or gets its fallback answer once no
//! fetch can bring them any more.

use super::{Outcome, Step, Verdict, Worker};
use crate::authz::Pending;
use crate::lifecycle::Host;

/// A request held for keys.
pub struct Held {
    provider: usize,
    since_ms: u64,
    /// The provider's key version the request was last judged with.
    version: Option<u32>,
    pending: Pending,
}

impl Held {
    /// A request held at `since_ms` for provider `provider`, whose keys were `version`.
    pub fn new(provider: usize, since_ms: u64, version: Option<u32>, pending: Pending) -> Held {
        Held {
            provider,
            since_ms,
            version,
            pending,
        }
    }
}

impl Worker {
    /// Holds request `id`.
    pub(super) fn hold(&mut self, id: u32, held: Held) {
        self.held.insert(id, held);
    }

    /// Whether any request is held.
    pub(super) fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    /// Forgets a request that ended while held.
    pub fn forget(&mut self, id: u32) {
        self.held.remove(&id);
    }

    /// Resumes held requests whose provider's keys changed, answers those that can no
    /// longer get keys with their fallback, keeps the rest.
    pub(super) fn settle(&mut self, host: &mut dyn Host) -> Vec<(u32, Outcome)> {
        let now = host.now_ms();
        let mut settled = Vec::new();
        for (id, held) in std::mem::take(&mut self.held) {
            let (version, may_wait, retry) = match self.remote(held.provider) {
                Some(r) => (
                    r.version(),
                    r.may_still_get_keys(held.since_ms, now),
                    r.retry_after_s(now),
                ),
                None => (None, false, 1),
            };
            let verdict = if version != held.version {
                self.judge(host, Step::Resume(Box::new(held.pending)), now)
            } else {
                Verdict::NeedKeys {
                    provider: held.provider,
                    pending: held.pending,
                }
            };
            let verdict = match verdict {
                Verdict::NeedKeys { provider, pending } if may_wait => {
                    let held = Held::new(provider, held.since_ms, version, pending);
                    self.held.insert(id, held);
                    continue;
                }
                Verdict::NeedKeys { pending, .. } => crate::authz::give_up(&pending, retry),
                other => other,
            };
            settled.push((id, self.finish(host, id, verdict)));
        }
        settled
    }
}
