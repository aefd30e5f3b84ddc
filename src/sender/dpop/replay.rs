//! One use per proof for the whole Envoy process (RFC 9449 §11.1), in bounded shared data.
//!
//! proxy-wasm cannot delete keys, so the store is a fixed grid: 2 time slices × [`BUCKETS`]
//! keys, each holding at most [`ENTRIES`] 8-byte fingerprints of `(jkt, jti)` plus the slice
//! it belongs to. A slice lasts as long as a proof can be accepted (`window + 2 × skew`),
//! so a replay inside that span lands in the current or the previous slice; a bucket whose
//! slice has passed is simply overwritten. Writes use compare-and-swap, so two workers
//! recording into one bucket never lose an entry.
//!
//! Capacity: 2 048 × 256 = 524 288 proofs per slice, 8.5 MB at most, 4 096 keys. With the
//! default 180 s slice (60 s window, 60 s skew) that is 2 900 proofs/s on average; at
//! 2 000 proofs/s a given bucket fills in a slice with probability below 1e-8 (Poisson,
//! mean 176 of 256). A full bucket refuses the proof (fail closed); the client's next
//! proof lands elsewhere.

use crate::shared::{SharedData, SharedError};

/// Buckets per slice.
pub const BUCKETS: usize = 2048;
/// Fingerprints per bucket.
pub const ENTRIES: usize = 256;
/// Compare-and-swap attempts before giving up on a contended bucket.
const MAX_ATTEMPTS: usize = 8;
/// Layout version, slice length, slice number and entry count precede the entries.
const HEADER_LEN: usize = 1 + 4 + 8 + 2;
const VERSION: u8 = 1;
const CONTEXT: &[u8] = b"jwt-guard dpop replay v1";

/// Why a proof cannot be accepted as new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The proof was seen before.
    #[error("DPoP proof already used")]
    Replayed,
    /// Its bucket is full for this slice, or the store refused the write.
    #[error("DPoP proof could not be recorded")]
    Unrecorded,
}

/// The replay store's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayCache {
    slice_s: u64,
    buckets: usize,
    entries: usize,
}

/// The fingerprint of a proof: keyed by the process secret, so clients cannot aim many
/// proofs at one bucket.
pub fn fingerprint(secret: &[u8; 32], jkt: &str, jti: &str) -> u64 {
    let mut hasher = blake3::Hasher::new_keyed(secret);
    hasher.update(CONTEXT);
    hasher.update(&(jkt.len() as u64).to_le_bytes());
    hasher.update(jkt.as_bytes());
    hasher.update(jti.as_bytes());
    let mut out = [0u8; 8];
    hasher.finalize_xof().fill(&mut out);
    u64::from_le_bytes(out)
}

impl ReplayCache {
    /// The store for proofs accepted `window_s` after `iat`, with `skew_s` either way.
    pub fn new(window_s: u64, skew_s: u64) -> ReplayCache {
        ReplayCache::with_geometry(window_s, skew_s, BUCKETS, ENTRIES)
    }

    fn with_geometry(window_s: u64, skew_s: u64, buckets: usize, entries: usize) -> Self {
        ReplayCache {
            slice_s: window_s.saturating_add(skew_s.saturating_mul(2)).max(1),
            buckets: buckets.max(1),
            entries,
        }
    }

    fn key(slot: u64, bucket: u64) -> String {
        format!("jwt_guard.dpop.replay.{slot}.{bucket}")
    }

    /// Creates every bucket key, so no worker can later overwrite one another worker
    /// created (Envoy ignores `cas` for absent keys). Run before serving requests.
    pub fn ensure(&self, store: &dyn SharedData) {
        for slot in 0..2 {
            for bucket in 0..self.buckets as u64 {
                let key = Self::key(slot, bucket);
                if store.shared_get(&key).is_none() {
                    let _ = store.shared_set(&key, &[], 0);
                }
            }
        }
    }

    /// Records a proof's `fingerprint` at `now`, or says it was seen in this or the last slice.
    pub fn check_and_record(
        &self,
        store: &dyn SharedData,
        fingerprint: u64,
        now: u64,
    ) -> Result<(), ReplayError> {
        let epoch = now / self.slice_s;
        let bucket = fingerprint % self.buckets as u64;
        if let Some(previous) = epoch.checked_sub(1) {
            let key = Self::key(previous % 2, bucket);
            if let Some((value, _)) = store.shared_get(&key) {
                if self.entries_of(&value, previous).any(|e| e == fingerprint) {
                    return Err(ReplayError::Replayed);
                }
            }
        }
        let key = Self::key(epoch % 2, bucket);
        for _ in 0..MAX_ATTEMPTS {
            // Absent reads as empty with cas 0; `ensure` created every key beforehand.
            let (value, cas) = store.shared_get(&key).unwrap_or_default();
            let mut count = 0;
            for entry in self.entries_of(&value, epoch) {
                if entry == fingerprint {
                    return Err(ReplayError::Replayed);
                }
                count += 1;
            }
            if count >= self.entries {
                return Err(ReplayError::Unrecorded);
            }
            // The stored entries are kept as bytes and the new one appended.
            let kept = value
                .get(HEADER_LEN..HEADER_LEN + 8 * count)
                .unwrap_or_default();
            let mut next = Vec::with_capacity(HEADER_LEN + kept.len() + 8);
            next.extend_from_slice(&self.prefix(epoch));
            next.extend_from_slice(&((count + 1) as u16).to_le_bytes());
            next.extend_from_slice(kept);
            next.extend_from_slice(&fingerprint.to_le_bytes());
            match store.shared_set(&key, &next, cas) {
                Ok(()) => return Ok(()),
                Err(SharedError::CasMismatch) => continue,
                Err(SharedError::Failed) => return Err(ReplayError::Unrecorded),
            }
        }
        Err(ReplayError::Unrecorded)
    }

    /// What a bucket of `epoch` starts with under this geometry: version, slice length, slice.
    fn prefix(&self, epoch: u64) -> [u8; HEADER_LEN - 2] {
        let mut out = [0u8; HEADER_LEN - 2];
        let (version, rest) = out.split_at_mut(1);
        let (slice, number) = rest.split_at_mut(4);
        version.copy_from_slice(&[VERSION]);
        slice.copy_from_slice(&(self.slice_s as u32).to_le_bytes());
        number.copy_from_slice(&epoch.to_le_bytes());
        out
    }

    /// The fingerprints stored for `epoch`; none if the bucket holds another slice (or
    /// another geometry, after a configuration change) or is unreadable.
    fn entries_of<'v>(&self, value: &'v [u8], epoch: u64) -> impl Iterator<Item = u64> + 'v {
        let body = match (value.get(..HEADER_LEN - 2), value.get(HEADER_LEN..)) {
            (Some(prefix), Some(body)) if prefix == self.prefix(epoch) => body,
            _ => &[],
        };
        body.chunks_exact(8)
            .take(self.entries)
            .filter_map(|c| <[u8; 8]>::try_from(c).ok().map(u64::from_le_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::fake::Fake;
    use crate::shared::SharedData;

    const NOW: u64 = 1_800_000_000;

    /// Two workers: two caches over one store, as two Envoy worker threads would have.
    fn workers() -> (ReplayCache, ReplayCache, Fake) {
        let a = ReplayCache::with_geometry(60, 60, 4, 3);
        (a, a, Fake::default())
    }

    #[test]
    fn a_proof_is_accepted_once_across_workers() {
        let (a, b, store) = workers();
        assert_eq!(a.check_and_record(&store, 42, NOW), Ok(()));
        assert_eq!(
            b.check_and_record(&store, 42, NOW + 1),
            Err(ReplayError::Replayed)
        );
        assert_eq!(
            a.check_and_record(&store, 42, NOW + 2),
            Err(ReplayError::Replayed)
        );
        assert_eq!(b.check_and_record(&store, 43, NOW + 2), Ok(()));
    }

    #[test]
    fn a_replay_within_a_slice_of_the_first_use_is_caught() {
        let (a, b, store) = workers();
        // Recorded at the very end of one slice, replayed at the very end of the next.
        let end = (NOW / 180 + 1) * 180 - 1;
        assert_eq!(a.check_and_record(&store, 7, end), Ok(()));
        assert_eq!(
            b.check_and_record(&store, 7, end + 180),
            Err(ReplayError::Replayed)
        );
        // Two slices later the entry has expired (the proof's iat is then out of window).
        assert_eq!(b.check_and_record(&store, 7, end + 181), Ok(()));
    }

    #[test]
    fn memory_is_bounded_and_full_buckets_fail_closed() {
        let (a, _, store) = workers();
        a.ensure(&store);
        assert_eq!(store.keys(), 8);
        // Fingerprints 0, 4, 8 land in bucket 0, which holds 3.
        for fp in [0, 4, 8] {
            assert_eq!(a.check_and_record(&store, fp, NOW), Ok(()));
        }
        assert_eq!(
            a.check_and_record(&store, 12, NOW),
            Err(ReplayError::Unrecorded)
        );
        assert_eq!(a.check_and_record(&store, 13, NOW), Ok(()));
        // Slices roll over the same keys.
        for t in 0..20u64 {
            let _ = a.check_and_record(&store, t, NOW + t * 97);
        }
        assert_eq!(store.keys(), 8);
        assert!(store.bytes() <= 8 * (HEADER_LEN + 3 * 8));
    }

    #[test]
    fn contention_retries_then_fails_closed() {
        let (a, _, store) = workers();
        a.ensure(&store);
        store.fail_cas.set(2);
        assert_eq!(a.check_and_record(&store, 1, NOW), Ok(()));
        store.fail_cas.set(100);
        assert_eq!(
            a.check_and_record(&store, 2, NOW),
            Err(ReplayError::Unrecorded)
        );
        store.fail_cas.set(0);
        assert_eq!(
            a.check_and_record(&store, 1, NOW),
            Err(ReplayError::Replayed)
        );
    }

    #[test]
    fn entries_of_another_geometry_or_garbage_are_ignored() {
        let (a, _, store) = workers();
        let longer = ReplayCache::with_geometry(300, 60, 4, 3);
        assert_eq!(longer.check_and_record(&store, 5, NOW), Ok(()));
        assert_eq!(a.check_and_record(&store, 5, NOW), Ok(()));
        for slot in 0..2 {
            store
                .shared_set(&ReplayCache::key(slot, 2), b"\xff\x00garbage", 0)
                .unwrap();
        }
        assert_eq!(a.check_and_record(&store, 2, NOW), Ok(()));
        assert_eq!(
            a.check_and_record(&store, 2, NOW),
            Err(ReplayError::Replayed)
        );
    }

    #[test]
    fn fingerprints_depend_on_secret_key_and_jti() {
        let f = fingerprint(&[1; 32], "jkt", "jti");
        assert_eq!(f, fingerprint(&[1; 32], "jkt", "jti"));
        assert_ne!(f, fingerprint(&[2; 32], "jkt", "jti"));
        assert_ne!(f, fingerprint(&[1; 32], "jkt2", "jti"));
        assert_ne!(f, fingerprint(&[1; 32], "jkt", "jti2"));
        assert_ne!(
            fingerprint(&[1; 32], "ab", "c"),
            fingerprint(&[1; 32], "a", "bc")
        );
    }

    #[test]
    fn default_geometry_matches_the_stated_capacity() {
        let c = ReplayCache::new(60, 60);
        assert_eq!(c.slice_s, 180);
        assert_eq!(c.buckets * c.entries, 524_288);
        assert!(2 * c.buckets * (HEADER_LEN + 8 * c.entries) < 8_500_000);
    }
}
