//! When to fetch a provider's JWKS. One [`FetchState`] per provider lives in proxy-wasm
//! shared data and is updated with compare-and-swap, so all workers of the process agree
//! on who fetches (the lease), when the next refresh is due, and the unknown-`kid`
//! cooldown. Times are milliseconds since the epoch.
//!
//! The cooldown backs off under a flood: a refetch (for an unknown `kid`, or a signature a
//! known `kid` does not verify) that does not change the key set doubles it, up to the
//! refresh interval; any fetch that changes the key set restores the configured one.
//!
//! The record also carries `published`, a counter bumped with every new key set, so a
//! worker learns that keys changed from this small record alone and copies the JWKS text
//! out of shared data only when they did.

/// First retry delay after a failed fetch; doubled per consecutive failure.
const BACKOFF_BASE_MS: u64 = 1_000;
/// Longest retry delay after failures.
const BACKOFF_MAX_MS: u64 = 30_000;
/// Extra time a lease outlives the callout timeout, so a lost worker cannot block forever.
const LEASE_GRACE_MS: u64 = 1_000;
/// Longest `Retry-After` of a 429/503 JWKS answer that is honoured.
pub const MAX_RETRY_AFTER_MS: u64 = 300_000;
/// The shared record's format version (its first byte) and length. Records of another
/// version live under another key (see the lifecycle), so VMs of two releases running side
/// by side during an update do not read each other's records as fresh ones.
pub const RECORD_VERSION: u8 = 2;
const RECORD_LEN: usize = 1 + 9 * 8;
/// The first step of a refetch cooldown that backs off from zero.
const COOLDOWN_STEP_MS: u64 = 1_000;
/// Scheduled refreshes move by up to this many per mille either way (±10 %).
const JITTER_PER_MILLE: u64 = 100;

/// The shared fetch schedule of one provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchState {
    /// A fetch is in flight until then (0: none).
    pub lease_until_ms: u64,
    /// The next scheduled fetch (0: now).
    pub next_attempt_ms: u64,
    /// When the last unknown-`kid` refetch started.
    pub kid_refetch_ms: u64,
    /// Consecutive failed fetches.
    pub failures: u32,
    /// When keys were last fetched successfully (0: never).
    pub fetched_ms: u64,
    /// Bumped whenever the shared key set changes (published or dropped).
    pub published: u32,
    /// The keys were dropped for being older than `max_stale_s`; cleared by a success.
    pub dropped: bool,
    /// The refetch cooldown backed off to, after refetches that found nothing new (0: the
    /// configured one).
    pub kid_cooldown_ms: u64,
    /// The fetch in flight is a refetch (its outcome may back the cooldown off).
    pub refetching: bool,
}

impl FetchState {
    /// Parses the shared-data record; a missing or unreadable record is a fresh state.
    /// Every worker reads it on every tick and on every request that needs keys, so it
    /// is a fixed-width binary record (a version byte, then little-endian fields), not JSON.
    pub fn decode(bytes: Option<&[u8]>) -> FetchState {
        let Some([RECORD_VERSION, rest @ ..]) = bytes else {
            return FetchState::default();
        };
        let Ok(fixed) = <&[u8; RECORD_LEN - 1]>::try_from(rest) else {
            return FetchState::default();
        };
        let mut fields = fixed.chunks_exact(8).map(|c| {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            u64::from_le_bytes(word)
        });
        let mut next = || fields.next().unwrap_or(0);
        FetchState {
            lease_until_ms: next(),
            next_attempt_ms: next(),
            kid_refetch_ms: next(),
            fetched_ms: next(),
            failures: u32::try_from(next()).unwrap_or(u32::MAX),
            published: u32::try_from(next()).unwrap_or(0),
            dropped: next() != 0,
            kid_cooldown_ms: next(),
            refetching: next() != 0,
        }
    }

    /// The shared-data record.
    pub fn encode(&self) -> Vec<u8> {
        let fields = [
            self.lease_until_ms,
            self.next_attempt_ms,
            self.kid_refetch_ms,
            self.fetched_ms,
            u64::from(self.failures),
            u64::from(self.published),
            u64::from(self.dropped),
            self.kid_cooldown_ms,
            u64::from(self.refetching),
        ];
        let mut out = Vec::with_capacity(RECORD_LEN);
        out.push(RECORD_VERSION);
        fields
            .iter()
            .for_each(|f| out.extend_from_slice(&f.to_le_bytes()));
        out
    }

    /// Whether some worker is fetching right now.
    pub fn in_flight(&self, now: u64) -> bool {
        now < self.lease_until_ms
    }

    /// Whether a scheduled fetch (refresh, first load or retry) is due.
    pub fn refresh_due(&self, now: u64) -> bool {
        !self.in_flight(now) && now >= self.next_attempt_ms
    }

    /// The refetch cooldown in force: `configured_ms` (`refetch_cooldown_s`), or longer
    /// after refetches that found nothing new.
    pub fn kid_cooldown(&self, configured_ms: u64) -> u64 {
        self.kid_cooldown_ms.max(configured_ms)
    }

    /// Whether an unknown `kid` may trigger a refetch now.
    pub fn kid_refetch_allowed(&self, now: u64, configured_cooldown_ms: u64) -> bool {
        !self.in_flight(now)
            && (self.kid_refetch_ms == 0
                || now
                    >= self
                        .kid_refetch_ms
                        .saturating_add(self.kid_cooldown(configured_cooldown_ms)))
    }

    /// Takes the lease for one fetch.
    pub fn claim(&mut self, now: u64, timeout_ms: u64, for_unknown_kid: bool) {
        self.lease_until_ms = now
            .saturating_add(timeout_ms)
            .saturating_add(LEASE_GRACE_MS);
        self.refetching = for_unknown_kid;
        if for_unknown_kid {
            self.kid_refetch_ms = now;
        }
    }

    /// Ends a fetch for the cooldown: one that changed the key set restores the configured
    /// cooldown; a refetch that did not doubles it, up to the refresh interval.
    fn settle_cooldown(&mut self, changed: bool, configured_ms: u64, refresh_interval_ms: u64) {
        let refetch = std::mem::take(&mut self.refetching);
        if changed {
            self.kid_cooldown_ms = 0;
        } else if refetch {
            let now_in_force = self.kid_cooldown(configured_ms);
            let doubled = if now_in_force == 0 {
                COOLDOWN_STEP_MS
            } else {
                now_in_force.saturating_mul(2)
            };
            self.kid_cooldown_ms = doubled.min(refresh_interval_ms.max(configured_ms));
        }
    }

    /// Records a successful fetch (`changed`: it published a new key set) and schedules
    /// the next refresh `refresh_interval_ms` ± 10 % from now; `random` picks the offset,
    /// so a fleet started together does not keep fetching in step. `cooldown_ms` is the
    /// configured refetch cooldown.
    pub fn succeeded(
        &mut self,
        now: u64,
        refresh_interval_ms: u64,
        cooldown_ms: u64,
        changed: bool,
        random: u64,
    ) {
        self.lease_until_ms = 0;
        self.failures = 0;
        self.fetched_ms = now;
        if changed || self.dropped {
            self.published = self.published.wrapping_add(1);
        }
        self.settle_cooldown(changed || self.dropped, cooldown_ms, refresh_interval_ms);
        self.dropped = false;
        let span = refresh_interval_ms.saturating_mul(JITTER_PER_MILLE) / 1000;
        let offset = random % span.saturating_mul(2).saturating_add(1);
        self.next_attempt_ms = now
            .saturating_add(refresh_interval_ms)
            .saturating_add(offset)
            .saturating_sub(span);
    }

    /// Records a failed fetch and schedules a retry with exponential backoff, never later
    /// than the regular refresh; a `Retry-After` the JWKS server sent (429/503) is
    /// honoured up to [`MAX_RETRY_AFTER_MS`]. A failed refetch changed nothing: it backs
    /// the refetch cooldown (configured: `cooldown_ms`) off too.
    pub fn failed(
        &mut self,
        now: u64,
        refresh_interval_ms: u64,
        cooldown_ms: u64,
        retry_after_ms: Option<u64>,
    ) {
        self.lease_until_ms = 0;
        self.settle_cooldown(false, cooldown_ms, refresh_interval_ms);
        self.failures = self.failures.saturating_add(1);
        let shift = self.failures.saturating_sub(1).min(16);
        let backoff = BACKOFF_BASE_MS
            .saturating_mul(1 << shift)
            .min(BACKOFF_MAX_MS)
            .min(refresh_interval_ms.max(BACKOFF_BASE_MS));
        let asked = retry_after_ms.map_or(0, |ms| ms.min(MAX_RETRY_AFTER_MS));
        self.next_attempt_ms = now.saturating_add(backoff.max(asked));
    }

    /// Whether the last good keys are older than `max_stale_ms` and must no longer be used.
    pub fn stale(&self, now: u64, max_stale_ms: u64) -> bool {
        self.dropped || (self.fetched_ms != 0 && now.saturating_sub(self.fetched_ms) > max_stale_ms)
    }

    /// Marks the keys dropped for staleness; true when this call did it (log and count once).
    pub fn drop_stale(&mut self, now: u64, max_stale_ms: u64) -> bool {
        if self.dropped || !self.stale(now, max_stale_ms) {
            return false;
        }
        self.dropped = true;
        self.published = self.published.wrapping_add(1);
        true
    }

    /// Seconds until the next attempt, for `Retry-After` (at least 1).
    pub fn retry_after_s(&self, now: u64) -> u64 {
        self.next_attempt_ms
            .saturating_sub(now)
            .div_ceil(1000)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_state_fetches_at_once() {
        let s = FetchState::decode(None);
        assert!(s.refresh_due(5));
        assert!(s.kid_refetch_allowed(5, 30_000));
        assert_eq!(FetchState::decode(Some(b"garbage")), FetchState::default());
        let mut short = FetchState::default().encode();
        short.pop();
        assert_eq!(FetchState::decode(Some(&short)), FetchState::default());
    }

    #[test]
    fn lease_blocks_other_fetches_until_it_ends() {
        let mut s = FetchState::default();
        s.claim(1_000, 5_000, false);
        assert!(s.in_flight(2_000));
        assert!(!s.refresh_due(2_000));
        assert!(!s.kid_refetch_allowed(2_000, 0));
        // A worker that vanished mid-fetch does not block forever.
        assert!(s.refresh_due(7_001));
    }

    #[test]
    fn success_schedules_the_refresh() {
        let mut s = FetchState::default();
        s.claim(1_000, 5_000, false);
        s.succeeded(1_500, 600_000, 30_000, true, 60_000);
        assert!(!s.in_flight(1_500));
        assert!(!s.refresh_due(600_000));
        assert!(s.refresh_due(601_500));
        assert_eq!(s.fetched_ms, 1_500);
    }

    #[test]
    fn failures_back_off_exponentially_and_cap() {
        let mut s = FetchState::default();
        let mut delays = vec![];
        for _ in 0..8 {
            s.failed(0, 600_000, 30_000, None);
            delays.push(s.next_attempt_ms);
        }
        assert_eq!(
            delays,
            [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(s.retry_after_s(100), 30);
        s.failed(0, 2_000, 30_000, None);
        assert_eq!(
            s.next_attempt_ms, 2_000,
            "never later than the refresh interval"
        );
        s.succeeded(10, 600_000, 30_000, false, 0);
        assert_eq!(s.failures, 0);
    }

    #[test]
    fn unknown_kid_refetch_respects_the_cooldown() {
        let mut s = FetchState::default();
        s.claim(10_000, 1_000, true);
        s.succeeded(10_200, 600_000, 30_000, true, 0);
        assert!(!s.kid_refetch_allowed(20_000, 30_000));
        assert!(s.kid_refetch_allowed(40_000, 30_000));
    }

    #[test]
    fn refetches_that_find_nothing_new_double_the_cooldown_up_to_the_refresh_interval() {
        let (cooldown, refresh) = (30_000, 600_000);
        let mut s = FetchState::default();
        let mut now = 0;
        let mut gaps = vec![];
        for _ in 0..8 {
            // The next refetch is allowed exactly when the cooldown in force has passed.
            let gap = s.kid_cooldown(cooldown);
            if s.kid_refetch_ms != 0 {
                assert!(!s.kid_refetch_allowed(s.kid_refetch_ms + gap - 1, cooldown));
            }
            now = s.kid_refetch_ms + gap;
            assert!(s.kid_refetch_allowed(now, cooldown));
            gaps.push(gap);
            s.claim(now, 1_000, true);
            s.succeeded(now + 100, refresh, cooldown, false, 0);
        }
        assert_eq!(
            gaps,
            [30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000]
        );
        // A failed refetch backs off too; a scheduled fetch that changes nothing does not
        // restore it.
        let mut f = FetchState::default();
        f.claim(0, 1_000, true);
        f.failed(10, refresh, cooldown, None);
        assert_eq!(f.kid_cooldown(cooldown), 60_000);
        s.claim(now, 1_000, false);
        s.succeeded(now, refresh, cooldown, false, 0);
        assert_eq!(s.kid_cooldown(cooldown), 600_000);
        // A fetch that changes the key set, scheduled or refetch, restores the configured one.
        s.claim(now, 1_000, false);
        s.succeeded(now, refresh, cooldown, true, 0);
        assert_eq!(s.kid_cooldown(cooldown), cooldown);
        let mut r = FetchState {
            kid_cooldown_ms: 480_000,
            ..FetchState::default()
        };
        r.claim(0, 1_000, true);
        r.succeeded(10, refresh, cooldown, true, 0);
        assert_eq!(r.kid_cooldown(cooldown), cooldown);
        // A cooldown configured at zero backs off from one second; one at or above the
        // refresh interval stays.
        let mut z = FetchState::default();
        z.claim(0, 1_000, true);
        z.succeeded(1, refresh, 0, false, 0);
        assert_eq!(z.kid_cooldown(0), 1_000);
        let mut long = FetchState::default();
        long.claim(0, 1_000, true);
        long.succeeded(1, 60_000, 90_000, false, 0);
        assert_eq!(long.kid_cooldown(90_000), 90_000);
    }

    #[test]
    fn refreshes_are_jittered_by_ten_percent_at_most() {
        let at = |random| {
            let mut s = FetchState::default();
            s.succeeded(0, 600_000, 30_000, true, random);
            s.next_attempt_ms
        };
        assert_eq!(at(0), 540_000);
        assert_eq!(at(60_000), 600_000);
        assert_eq!(at(120_000), 660_000);
        assert_eq!(at(120_001), 540_000);
        assert!((0..1000u64)
            .map(|r| at(r.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            .all(|t| (540_000..=660_000).contains(&t)));
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_cap() {
        let mut s = FetchState::default();
        s.failed(0, 600_000, 30_000, Some(45_000));
        assert_eq!(s.next_attempt_ms, 45_000);
        s.failed(0, 600_000, 30_000, Some(10_000_000));
        assert_eq!(s.next_attempt_ms, MAX_RETRY_AFTER_MS);
        // A shorter Retry-After than the backoff does not shorten it.
        let mut s = FetchState {
            failures: 5,
            ..FetchState::default()
        };
        s.failed(0, 600_000, 30_000, Some(1_000));
        assert_eq!(s.next_attempt_ms, 30_000);
    }

    #[test]
    fn keys_go_stale_once_and_a_success_revives_them() {
        let mut s = FetchState::default();
        assert!(!s.stale(1_000_000, 10), "never fetched is not stale");
        s.succeeded(1_000, 600_000, 30_000, true, 0);
        let v = s.published;
        assert!(!s.stale(11_000, 10_000));
        assert!(s.stale(11_001, 10_000));
        assert!(s.drop_stale(11_001, 10_000));
        assert!(!s.drop_stale(11_002, 10_000), "dropped once");
        assert_ne!(s.published, v);
        assert!(s.stale(11_002, 10_000_000), "dropped stays dropped");
        let v = s.published;
        s.succeeded(20_000, 600_000, 30_000, false, 0);
        assert!(!s.stale(20_001, 10_000));
        assert_ne!(s.published, v, "workers reload after a revival");
    }

    #[test]
    fn round_trips_through_shared_data() {
        let mut s = FetchState::default();
        s.failed(7, 1_000, 30_000, Some(5_000));
        assert_eq!(FetchState::decode(Some(&s.encode())), s);
        let full = FetchState {
            lease_until_ms: u64::MAX,
            next_attempt_ms: 1,
            kid_refetch_ms: 2,
            failures: u32::MAX,
            fetched_ms: 3,
            published: 7,
            dropped: true,
            kid_cooldown_ms: 8,
            refetching: true,
        };
        assert_eq!(FetchState::decode(Some(&full.encode())), full);
        assert_eq!(full.encode().len(), RECORD_LEN);
    }
}
