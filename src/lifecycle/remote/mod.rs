//! One remotely fetched provider as seen by one worker: its parsed keys, the shared fetch
//! record (lease, schedule, staleness) and this worker's callout (`discover`: the documents
//! a discovered provider fetches first in every round).

mod discover;

use super::answer::{self, Answer, FetchError};
use super::host::{Counter, Gauge, Host};
use crate::alg::Algorithm;
use crate::config::{Discovered, Provider, RemoteJwks};
use crate::discovery::{Endpoint, Kind};
use crate::jwks::{JwksError, KeySet};
use crate::schedule::FetchState;
use crate::shared::SharedError;
use discover::{Discovery, Found};

/// Attempts at a compare-and-swap update before giving up for this round.
const CAS_ATTEMPTS: usize = 8;
/// How long a held request may outlive the callout timeout while waiting for keys.
const HOLD_GRACE_MS: u64 = 2_000;

/// A fetch this worker would like to start on its next tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Nothing,
    /// A scheduled fetch (first load, refresh, retry).
    Refresh,
    /// A refetch for a token the current keys cannot verify (cooldown-limited).
    Refetch,
}

/// A provider whose JWKS is fetched through an Envoy cluster.
pub struct Remote {
    /// Index of the provider in the configuration (its id across the seam).
    pub index: usize,
    name: String,
    /// The JWKS endpoint (for a discovered provider: the one its last document named).
    jwks: RemoteJwks,
    discovery: Option<Discovery>,
    algorithms: Vec<Algorithm>,
    /// Whether `algorithms` was configured (the key policy of [`Provider::parse_keys`]).
    algorithms_listed: bool,
    keys_record: String,
    fetch_record: String,
    refresh_ms: u64,
    cooldown_ms: u64,
    timeout_ms: u64,
    max_stale_ms: u64,
    keys: Option<KeySet>,
    /// The shared `published` version `keys` came from.
    loaded: Option<u32>,
    /// The shared fetch record, as last read.
    state: FetchState,
    want: Want,
    /// This worker's callout in flight, if any.
    callout: Option<u32>,
}

impl Remote {
    /// The state of provider `index`, not loaded yet. Shared records are named after the
    /// provider and a digest of its issuer and JWKS URI, so two plugins with one `vm_id`
    /// but other settings do not share keys.
    pub fn new(index: usize, provider: &Provider, jwks: &RemoteJwks) -> Remote {
        let id = blake3::hash(format!("{}\n{}", provider.issuer, jwks.uri).as_bytes());
        let tag: String = id
            .as_bytes()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        let base = format!("jwt_guard.{}.{tag}", provider.name);
        Remote {
            index,
            name: provider.name.clone(),
            jwks: jwks.clone(),
            discovery: None,
            algorithms: provider.algorithms.clone(),
            algorithms_listed: provider.algorithms_listed,
            keys_record: format!("{base}.keys"),
            fetch_record: format!("{base}.fetch.v{}", crate::schedule::RECORD_VERSION),
            refresh_ms: provider.refresh_interval_s.saturating_mul(1000),
            cooldown_ms: provider.refetch_cooldown_s.saturating_mul(1000),
            timeout_ms: provider.jwks_timeout_ms,
            max_stale_ms: provider.max_stale_s.saturating_mul(1000),
            keys: None,
            loaded: None,
            state: FetchState::default(),
            want: Want::Nothing,
            callout: None,
        }
    }

    /// The state of discovered provider `index`; its records are named after its issuer
    /// and the discovery URL.
    pub fn discovered(index: usize, provider: &Provider, discovered: &Discovered) -> Remote {
        let openid = &discovered.plan.openid;
        // Not fetched before a document names the real endpoint.
        let unknown = RemoteJwks {
            cluster: discovered.jwks_cluster.clone(),
            uri: openid.url.clone(),
            authority: openid.authority.clone(),
            path: openid.path.clone(),
        };
        let mut remote = Remote::new(index, provider, &unknown);
        remote.discovery = Some(Discovery::new(discovered, &remote.fetch_record));
        remote
    }

    /// The keys to verify with at `now`: none before the first load or once stale.
    pub fn keys(&self, now: u64) -> Option<&KeySet> {
        if self.state.stale(now, self.max_stale_ms) {
            return None;
        }
        self.keys.as_ref()
    }

    /// The version of the keys this worker holds, to tell whether they changed.
    pub fn version(&self) -> Option<u32> {
        self.loaded
    }

    /// This worker's callout token, if it is fetching.
    pub fn callout(&self) -> Option<u32> {
        self.callout
    }

    /// Whether this worker wants a fetch on its next tick.
    pub fn wants_fetch(&self) -> bool {
        self.want != Want::Nothing
    }

    /// When the shared schedule says the next fetch is due (as last read).
    pub fn next_attempt_ms(&self) -> u64 {
        self.state.next_attempt_ms
    }

    /// Seconds until the next fetch attempt, for `Retry-After`.
    pub fn retry_after_s(&self, now: u64) -> u64 {
        self.state.retry_after_s(now)
    }

    /// Whether a request held since `since` may still get keys from a fetch under way or
    /// wanted here or on another worker.
    pub fn may_still_get_keys(&self, since: u64, now: u64) -> bool {
        // A discovery round is up to three callouts: two documents, then the keys.
        let callouts = if self.discovery.is_some() { 3 } else { 1 };
        let limit = self
            .timeout_ms
            .saturating_mul(callouts)
            .saturating_add(HOLD_GRACE_MS);
        now.saturating_sub(since) <= limit
            && (self.callout.is_some() || self.wants_fetch() || self.state.in_flight(now))
    }

    /// Parses a JWKS text under the provider's key policy (as [`Provider::parse_keys`]).
    fn parse(&self, body: &[u8]) -> Result<KeySet, JwksError> {
        if self.algorithms_listed {
            KeySet::parse_listed(body, &self.algorithms)
        } else {
            KeySet::parse(body, &self.algorithms)
        }
    }

    /// Reads the shared fetch record (creating it if no worker has yet).
    fn read_state(&mut self, host: &mut dyn Host) -> Option<u32> {
        match host.shared_get(&self.fetch_record) {
            Some((bytes, cas)) => {
                self.state = FetchState::decode(Some(&bytes));
                Some(cas)
            }
            None => {
                let fresh = FetchState::default();
                // Unconditional create: concurrent creators write the same fresh record,
                // and every later change is CAS-checked against it.
                if let Err(e) = host.shared_set(&self.fetch_record, &fresh.encode(), 0) {
                    log::warn!("cannot create shared record {}: {e:?}", self.fetch_record);
                    return None;
                }
                host.shared_get(&self.fetch_record).map(|(bytes, cas)| {
                    self.state = FetchState::decode(Some(&bytes));
                    cas
                })
            }
        }
    }

    /// Applies `change` to the shared fetch record atomically; `change` returns `false` to
    /// leave it. `Some(state)` only when this call wrote it.
    fn update(
        &mut self,
        host: &mut dyn Host,
        change: impl Fn(&mut FetchState) -> bool,
    ) -> Option<FetchState> {
        for _ in 0..CAS_ATTEMPTS {
            let cas = self.read_state(host)?;
            let mut next = self.state;
            if !change(&mut next) {
                return None;
            }
            match host.shared_set(&self.fetch_record, &next.encode(), cas) {
                Ok(()) => {
                    self.state = next;
                    return Some(next);
                }
                Err(SharedError::CasMismatch) => continue,
                Err(SharedError::Failed) => return None,
            }
        }
        None
    }

    /// Catches up with the shared record: drops keys gone stale (the worker that marks them
    /// dropped logs and counts it), reloads keys another worker published. True when this
    /// worker's keys changed.
    pub fn sync(&mut self, host: &mut dyn Host) -> bool {
        if self.read_state(host).is_none() {
            return false;
        }
        let now = host.now_ms();
        if self.state.stale(now, self.max_stale_ms) {
            let max_stale_ms = self.max_stale_ms;
            if self
                .update(host, |s| s.drop_stale(now, max_stale_ms))
                .is_some()
            {
                log::warn!(
                    "provider {}: keys dropped, last successful fetch {}s ago exceeds max_stale_s",
                    self.name,
                    now.saturating_sub(self.state.fetched_ms) / 1000
                );
                host.count(Counter::KeysDropped(self.index), 1);
            }
            self.loaded = None;
            return self.keys.take().is_some();
        }
        if self.loaded == Some(self.state.published) {
            return false;
        }
        let version = self.state.published;
        let Some((text, _)) = host.shared_get(&self.keys_record) else {
            self.loaded = Some(version);
            return false;
        };
        match self.parse(&text) {
            Ok(set) => {
                log::debug!("provider {}: worker loaded {} keys", self.name, set.len());
                self.keys = Some(set);
                self.loaded = Some(version);
                true
            }
            Err(e) => {
                log::warn!("provider {}: shared key set unusable: {e}", self.name);
                self.loaded = Some(version);
                false
            }
        }
    }

    /// Records the age and size of the key set.
    pub fn report(&self, host: &mut dyn Host, now: u64) {
        if let Some(keys) = &self.keys {
            let age_s = now.saturating_sub(self.state.fetched_ms) / 1000;
            host.gauge(Gauge::KeysAge(self.index), age_s);
            host.gauge(Gauge::KeyCount(self.index), keys.len() as u64);
            host.gauge(
                Gauge::RsaExponentRefused(self.index),
                keys.rsa_exponent_refused() as u64,
            );
        }
    }

    /// Asks for a fetch on the next tick: a refetch (the keys cannot verify a token) when
    /// keys are loaded, else a scheduled one. `Err(retry_after_s)` when the schedule
    /// allows none now, so the request cannot wait.
    pub fn request_fetch(&mut self, now: u64) -> Result<(), u64> {
        if self.callout.is_some() || self.state.in_flight(now) {
            return Ok(());
        }
        if self.keys(now).is_some() {
            if self.want == Want::Refetch || self.state.kid_refetch_allowed(now, self.cooldown_ms) {
                self.want = Want::Refetch;
                return Ok(());
            }
        } else if self.state.refresh_due(now) {
            if self.want == Want::Nothing {
                self.want = Want::Refresh;
            }
            return Ok(());
        }
        Err(self.state.retry_after_s(now))
    }

    /// Starts a fetch when one is due or wanted and this worker wins the shared lease.
    pub fn maybe_fetch(&mut self, host: &mut dyn Host) {
        if self.callout.is_some() {
            return;
        }
        let now = host.now_ms();
        let want = std::mem::replace(&mut self.want, Want::Nothing);
        let (cooldown_ms, timeout_ms) = (self.cooldown_ms, self.timeout_ms);
        let claimed = self.update(host, |s| {
            let refetch = want == Want::Refetch && s.kid_refetch_allowed(now, cooldown_ms);
            if refetch || s.refresh_due(now) {
                s.claim(now, timeout_ms, refetch);
                true
            } else {
                false
            }
        });
        if claimed.is_none() {
            return;
        }
        // A discovered provider's round starts with its OpenID document.
        let first = self.discovery.as_ref().map(|_| Kind::OpenId);
        self.fetch(host, first);
    }

    /// Starts this worker's callout for discovery document `document`, or for the keys.
    fn fetch(&mut self, host: &mut dyn Host, document: Option<Kind>) {
        let target = match (&self.discovery, document) {
            (Some(d), Some(kind)) => {
                let doc = d.plan.endpoint(kind);
                RemoteJwks {
                    cluster: d.cluster.clone(),
                    uri: doc.url.clone(),
                    authority: doc.authority.clone(),
                    path: doc.path.clone(),
                }
            }
            _ => self.jwks.clone(),
        };
        match host.dispatch(&target, self.timeout_ms) {
            Ok(token) => {
                log::debug!("provider {}: fetching {}", self.name, target.uri);
                self.callout = Some(token);
                if let Some(d) = &mut self.discovery {
                    d.fetching = document;
                }
            }
            Err(why) => self.failed(host, &FetchError::Dispatch(why), None),
        }
    }

    /// Handles the answer to this worker's callout. True when the keys changed.
    pub fn answered(&mut self, host: &mut dyn Host, answer: Answer<'_>) -> bool {
        self.callout = None;
        if let Some(kind) = self.discovery.as_mut().and_then(|d| d.fetching.take()) {
            self.on_document(host, kind, answer);
            return false;
        }
        let retry_after_ms = answer.retry_after_ms();
        match answer::keys(answer, |body| self.parse(body)) {
            Ok((body, set)) => self.succeeded(host, &body, set),
            Err(e) => {
                self.failed(host, &e, retry_after_ms);
                false
            }
        }
    }

    /// Publishes a fetched key set (parsed once, here) and schedules the next refresh.
    fn succeeded(&mut self, host: &mut dyn Host, body: &[u8], set: KeySet) -> bool {
        let now = host.now_ms();
        let unchanged = host
            .shared_get(&self.keys_record)
            .is_some_and(|(old, _)| old == body);
        if !unchanged {
            // Published before the record says so: a worker that sees the new version
            // always finds the new text.
            if let Err(e) = host.shared_set(&self.keys_record, body, 0) {
                log::warn!("provider {}: cannot share keys: {e:?}", self.name);
            }
            log::info!(
                "provider {}: key set updated, {} keys (kid: {})",
                self.name,
                set.len(),
                set.kids().join(", ")
            );
            for why in set.skipped() {
                log::warn!("provider {}: skipped {why}", self.name);
            }
        } else {
            log::debug!("provider {}: key set unchanged", self.name);
        }
        host.count(Counter::FetchSuccess(self.index), 1);
        let (refresh_ms, cooldown_ms, random) = (self.refresh_ms, self.cooldown_ms, host.random());
        let before = self.state.kid_cooldown(cooldown_ms);
        let Some(state) = self.update(host, |s| {
            s.succeeded(now, refresh_ms, cooldown_ms, !unchanged, random);
            true
        }) else {
            return false;
        };
        self.log_cooldown(before);
        if self.loaded == Some(state.published) && self.keys.is_some() {
            return false;
        }
        self.keys = Some(set);
        self.loaded = Some(state.published);
        true
    }

    /// Logs a change of the refetch cooldown in force (from `before`) by this worker's fetch.
    fn log_cooldown(&self, before: u64) {
        let after = self.state.kid_cooldown(self.cooldown_ms);
        if after > before {
            log::info!(
                "provider {}: a refetch found no new key; refetches for unknown kids or failing \
                 signatures now at most every {}s",
                self.name,
                after / 1000
            );
        } else if after < before {
            log::info!(
                "provider {}: key set changed; refetch cooldown back to {}s",
                self.name,
                after / 1000
            );
        }
    }

    fn failed(&mut self, host: &mut dyn Host, why: &FetchError, retry_after_ms: Option<u64>) {
        let now = host.now_ms();
        let (refresh_ms, cooldown_ms) = (self.refresh_ms, self.cooldown_ms);
        let before = self.state.kid_cooldown(cooldown_ms);
        self.update(host, |s| {
            s.failed(now, refresh_ms, cooldown_ms, retry_after_ms);
            true
        });
        self.log_cooldown(before);
        let kept = if self.keys(now).is_some() {
            "keeping the last good keys"
        } else {
            "no keys"
        };
        log::warn!(
            "provider {}: JWKS fetch failed: {why}; {kept}; retry in {}s",
            self.name,
            self.state.retry_after_s(now)
        );
        host.count(Counter::FetchFailure(self.index), 1);
    }

    /// The next callout of a round that has more than one: renews the shared lease first.
    fn fetch_next(&mut self, host: &mut dyn Host, document: Option<Kind>) {
        let (now, timeout_ms) = (host.now_ms(), self.timeout_ms);
        self.update(host, |s| {
            s.claim(now, timeout_ms, false);
            true
        });
        self.fetch(host, document);
    }

    /// Acts on a discovery document: fetches what it leads to, or fails the round.
    fn on_document(&mut self, host: &mut dyn Host, kind: Kind, answer: Answer<'_>) {
        let retry_after_ms = answer.retry_after_ms();
        let Some(d) = &self.discovery else {
            return;
        };
        match d.on_document(host, (self.index, &self.name), kind, answer) {
            Found::Keys(jwks) => {
                self.use_endpoint(jwks);
                self.fetch_next(host, None);
            }
            Found::Document(next) => self.fetch_next(host, Some(next)),
            Found::Nothing(why) => self.failed(host, &why, retry_after_ms),
        }
    }

    /// Fetches keys from `jwks` (a discovery document's `jwks_uri`) from now on.
    fn use_endpoint(&mut self, jwks: Endpoint) {
        self.jwks.uri = jwks.url;
        self.jwks.authority = jwks.authority;
        self.jwks.path = jwks.path;
    }
}
