//! A bounded per-worker cache of verified tokens, keyed by the BLAKE3 hash of the token
//! (the token itself is never stored). BLAKE3 rather than SHA-256: inside V8 it hashes a
//! typical access token in under a third of the time, and the hash is most of the cost
//! of a cache hit. An entry holds what a later request needs to re-apply
//! the time and scope checks without parsing or verifying again.

use crate::jwks::KeyId;
use crate::verify::Verified;
use std::collections::{HashMap, VecDeque};

/// The cache key of a token.
pub type Digest = [u8; 32];

/// Digest of a token, for cache look-ups.
pub fn digest(token: &str) -> Digest {
    *blake3::hash(token.as_bytes()).as_bytes()
}

/// Bounded map from token digest to [`Verified`], evicting expired entries first and
/// then the oldest.
#[derive(Debug, Default)]
pub struct TokenCache {
    capacity: usize,
    entries: HashMap<Digest, Verified>,
    order: VecDeque<Digest>,
    /// The earliest `exp` among the entries (a lower bound after removals): no sweep for
    /// expired entries is worth its full scan before then.
    earliest_exp: u64,
    hits: u64,
    misses: u64,
}

impl TokenCache {
    /// A cache holding at most `capacity` entries (0 disables it).
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            entries: HashMap::with_capacity(capacity.min(1024)),
            order: VecDeque::with_capacity(capacity.min(1024)),
            earliest_exp: u64::MAX,
            hits: 0,
            misses: 0,
        }
    }

    /// Whether the cache holds anything at all (a size of 0 disables it).
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The entry for `digest`, if any; counts the hit or miss when the cache is enabled.
    pub fn lookup(&mut self, digest: &Digest) -> Option<&Verified> {
        if self.capacity == 0 {
            return None;
        }
        let found = self.entries.get(digest);
        if found.is_some() {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    /// Hits and misses counted since the last call.
    pub fn take_counts(&mut self) -> (u64, u64) {
        (
            std::mem::take(&mut self.hits),
            std::mem::take(&mut self.misses),
        )
    }

    /// Stores an entry, making room if the cache is full.
    pub fn insert(&mut self, digest: Digest, verified: Verified, now: u64, skew: u64) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&digest) {
            self.evict(now, skew);
        }
        self.earliest_exp = self.earliest_exp.min(verified.window.exp);
        if self.entries.insert(digest, verified).is_none() {
            self.order.push_back(digest);
        }
    }

    /// Makes room for one entry: sweeps expired entries when some may have expired (a
    /// full scan, so only then), otherwise drops the oldest. Amortised O(1) per insert.
    fn evict(&mut self, now: u64, skew: u64) {
        if self.earliest_exp.saturating_add(skew) < now {
            self.entries
                .retain(|_, v| v.window.exp.saturating_add(skew) >= now);
            let entries = &self.entries;
            self.order.retain(|d| entries.contains_key(d));
            self.earliest_exp = self
                .entries
                .values()
                .map(|v| v.window.exp)
                .min()
                .unwrap_or(u64::MAX);
        }
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
    }

    /// Drops entries of `provider` verified by key material for which `still_there` is false.
    pub fn retain_keys(&mut self, provider: usize, still_there: impl Fn(&KeyId) -> bool) {
        self.entries
            .retain(|_, v| v.provider != provider || still_there(&v.key));
        let entries = &self.entries;
        self.order.retain(|d| entries.contains_key(d));
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Window;

    fn entry(provider: usize, kid: &str, exp: u64) -> Verified {
        Verified {
            provider,
            key: *blake3::hash(kid.as_bytes()).as_bytes(),
            window: Window { exp, not_before: 0 },
            granted: vec![],
            headers: vec![],
            withheld: 0,
            cnf: Default::default(),
            auth: Default::default(),
            unmet: vec![],
        }
    }

    #[test]
    fn stores_by_digest_and_bounds_size() {
        let mut c = TokenCache::new(2);
        c.insert(digest("a"), entry(0, "k", 100), 0, 0);
        c.insert(digest("b"), entry(0, "k", 100), 0, 0);
        c.insert(digest("c"), entry(0, "k", 100), 0, 0);
        assert_eq!(c.len(), 2);
        assert!(c.lookup(&digest("a")).is_none(), "oldest evicted");
        assert!(c.lookup(&digest("c")).is_some());
        assert_eq!(c.take_counts(), (1, 1));
        assert_eq!(c.take_counts(), (0, 0));
    }

    #[test]
    fn evicts_expired_entries_first() {
        let mut c = TokenCache::new(2);
        c.insert(digest("old"), entry(0, "k", 10), 0, 0);
        c.insert(digest("live"), entry(0, "k", 1000), 0, 0);
        c.insert(digest("new"), entry(0, "k", 1000), 500, 0);
        assert!(c.lookup(&digest("live")).is_some());
        assert!(c.lookup(&digest("old")).is_none());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn full_cache_of_live_entries_drops_the_oldest_without_sweeping() {
        let mut c = TokenCache::new(3);
        for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            c.insert(digest(name), entry(0, "k", 1000 + i as u64), 10, 0);
        }
        assert_eq!(c.len(), 3);
        assert!(c.lookup(&digest("b")).is_none());
        assert!(c.lookup(&digest("c")).is_some());
        // Once the earliest entry has expired, a sweep frees every expired slot.
        c.insert(digest("f"), entry(0, "k", 5000), 1003, 0);
        assert!(c.lookup(&digest("c")).is_none(), "expired at 1002");
        assert!(c.lookup(&digest("d")).is_some());
        assert!(c.lookup(&digest("e")).is_some());
        assert!(c.lookup(&digest("f")).is_some());
    }

    #[test]
    fn drops_entries_of_removed_keys() {
        let mut c = TokenCache::new(10);
        c.insert(digest("a"), entry(0, "gone", 100), 0, 0);
        c.insert(digest("b"), entry(0, "kept", 100), 0, 0);
        c.insert(digest("c"), entry(1, "gone", 100), 0, 0);
        let kept = *blake3::hash(b"kept").as_bytes();
        c.retain_keys(0, |key| *key == kept);
        assert!(c.lookup(&digest("a")).is_none());
        assert!(c.lookup(&digest("b")).is_some());
        assert!(c.lookup(&digest("c")).is_some(), "other provider untouched");
    }

    #[test]
    fn zero_capacity_disables() {
        let mut c = TokenCache::new(0);
        c.insert(digest("a"), entry(0, "k", 100), 0, 0);
        assert!(c.is_empty());
    }
}
