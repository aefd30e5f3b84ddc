//! A request held while keys are fetched: where its decision stopped, to go on from there
//! once its provider's keys change ([`super::Worker`] settles held requests each tick).

use crate::authz::Pending;

/// A request held for keys.
pub struct Held {
    pub(super) provider: usize,
    pub(super) since_ms: u64,
    /// The provider's key version the request was last judged with.
    pub(super) version: Option<u32>,
    pub(super) pending: Pending,
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
