//! What the lifecycle needs from the proxy: clock, randomness, shared data, callouts and
//! metrics. The proxy-wasm shim implements it; unit tests use a fake.

use crate::config::RemoteJwks;
use crate::reject::Reason;
use crate::shared::SharedData;

/// A counter the lifecycle increments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    Allowed,
    Denied(Reason),
    /// Claim values not forwarded because a hop would change them.
    ClaimsWithheld,
    CacheHit,
    CacheMiss,
    Disagreements,
    FetchSuccess(usize),
    FetchFailure(usize),
    /// Keys dropped for being older than `max_stale_s` (once per process).
    KeysDropped(usize),
    /// A `report`-mode rule's request that enforcement would have allowed.
    ReportAllowed,
    /// A `report`-mode rule's request that enforcement would have refused, by reason.
    Reported(Reason),
    /// A discovery document used (provider `i`).
    DiscoverySuccess(usize),
    /// A discovery round without a usable document (provider `i`).
    DiscoveryFailure(usize),
}

/// A gauge the lifecycle records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gauge {
    KeysAge(usize),
    KeyCount(usize),
    /// RSA keys of provider `i`'s key set skipped for their public exponent.
    RsaExponentRefused(usize),
}

/// What the lifecycle needs from the proxy.
pub trait Host: SharedData {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> u64;
    /// A random number (refresh jitter).
    fn random(&mut self) -> u64;
    /// Starts a JWKS callout; its answer comes back with the returned token.
    fn dispatch(&mut self, jwks: &RemoteJwks, timeout_ms: u64) -> Result<u32, String>;
    /// Adds `n` to a counter.
    fn count(&mut self, counter: Counter, n: u64);
    /// Sets a gauge.
    fn gauge(&mut self, gauge: Gauge, value: u64);
}
