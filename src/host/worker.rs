//! One worker's state, shared by its root context and its HTTP contexts: the parsed key
//! sets (refreshed when the shared copy changes), the verified-token cache, requests held
//! while keys are fetched, and this worker's JWKS callouts.

use super::backend::Backend;
use super::keystore::SharedKeys;
use super::metrics::Metrics;
use crate::authz::{self, Context, Request, Verdict};
use crate::cache::TokenCache;
use crate::config::{Config, KeySource};
use crate::discovery::{Endpoint, Kind, Next};
use crate::jwks::{KeySet, MAX_JWKS_BYTES};
use crate::reject::Reply;
use proxy_wasm::hostcalls;
use proxy_wasm::types::MapType;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Duration;

/// What to do with a request.
pub enum Outcome {
    /// Continue upstream with these headers set.
    Continue(Vec<(String, String)>),
    /// Answer locally.
    Reply(Reply),
    /// Hold the request until keys arrive.
    Wait,
}

/// The parts of a held request needed to decide again.
struct Pending {
    method: String,
    path: String,
    token_headers: Vec<(String, String)>,
    overrides: Vec<String>,
    provider: usize,
    since_ms: u64,
}

/// A fetch this worker would like to start on its next tick.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Nothing,
    Refresh,
    UnknownKid,
}

/// What a callout of a fetch round fetches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// A discovery document.
    Document(Kind),
    /// The JWKS.
    Keys,
}

/// Per-provider key state of this worker.
struct Slot {
    shared: Option<SharedKeys>,
    keys: Option<KeySet>,
    version: Option<u32>,
    want: Want,
    fetching: bool,
    /// The shared schedule's next attempt, as last seen (0: unknown).
    next_attempt_ms: u64,
}

/// The state of one worker (one wasm VM).
pub struct Worker {
    config: Rc<Config>,
    slots: Vec<Slot>,
    cache: TokenCache,
    pending: BTreeMap<u32, Pending>,
    callouts: HashMap<u32, (usize, Stage)>,
    metrics: Metrics,
    backend: Backend,
}

impl Worker {
    /// A worker for a freshly validated configuration and signature backend.
    pub fn new(config: Config, backend: Backend) -> Worker {
        let slots = config
            .providers
            .iter()
            .map(|p| {
                let shared = match &p.keys {
                    KeySource::Remote(r) => Some(SharedKeys::new(p, &r.uri)),
                    KeySource::Discovered(d) => Some(SharedKeys::new(p, &d.plan.openid.url)),
                    KeySource::Inline(_) => None,
                };
                if let Some(s) = &shared {
                    s.ensure_fetch_record();
                }
                Slot {
                    shared,
                    keys: None,
                    version: None,
                    want: Want::Nothing,
                    fetching: false,
                    next_attempt_ms: 0,
                }
            })
            .collect();
        let metrics = Metrics::define(config.providers.iter().map(|p| p.name.as_str()));
        for (i, p) in config.providers.iter().enumerate() {
            if let KeySource::Inline(set) = &p.keys {
                metrics.key_set(i, 0, set.len());
            }
        }
        Worker {
            cache: TokenCache::new(config.token_cache_size),
            config: Rc::new(config),
            slots,
            pending: BTreeMap::new(),
            callouts: HashMap::new(),
            metrics,
            backend,
        }
    }

    /// The configuration this worker runs.
    pub fn config(&self) -> Rc<Config> {
        Rc::clone(&self.config)
    }

    fn decide(
        &mut self,
        method: &str,
        path: &str,
        token_headers: &[(&str, &str)],
        overrides: &[&str],
        now_ms: u64,
    ) -> Verdict {
        let ctx = Context {
            config: &self.config,
            now: now_ms / 1000,
            backend: self.backend.check(),
        };
        let req = Request {
            method,
            path,
            token_headers,
            method_overrides: overrides,
        };
        let (config, slots) = (&self.config, &self.slots);
        let keys = |i: usize| match config.providers.get(i).map(|p| &p.keys) {
            Some(KeySource::Inline(set)) => Some(set),
            _ => slots.get(i).and_then(|s| s.keys.as_ref()),
        };
        authz::decide(&ctx, &req, keys, &mut self.cache)
    }

    /// Decides a new request; `Wait` means it is held until keys arrive.
    pub fn on_request(
        &mut self,
        context_id: u32,
        method: String,
        path: String,
        token_headers: Vec<(String, String)>,
        overrides: Vec<String>,
        now_ms: u64,
    ) -> Outcome {
        let auth: Vec<(&str, &str)> = token_headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let over: Vec<&str> = overrides.iter().map(String::as_str).collect();
        let verdict = self.decide_with_fresh_keys(&method, &path, &auth, &over, now_ms);
        let Verdict::NeedKeys { provider, pending } = verdict else {
            return self.finish(context_id, verdict);
        };
        match self.request_fetch(provider, &pending, now_ms) {
            Ok(()) => {
                log::debug!("request {context_id} held for keys of provider {provider}");
                self.pending.insert(
                    context_id,
                    Pending {
                        method,
                        path,
                        token_headers,
                        overrides,
                        provider,
                        since_ms: now_ms,
                    },
                );
                Outcome::Wait
            }
            Err(retry_after_s) => self.finish(context_id, authz::give_up(&pending, retry_after_s)),
        }
    }

    /// Decides; when keys are missing, reloads the shared copy once and decides again. A
    /// fetch that ended elsewhere published its keys before releasing its lease, so a
    /// reload after seeing no fetch in flight cannot miss them.
    fn decide_with_fresh_keys(
        &mut self,
        method: &str,
        path: &str,
        token_headers: &[(&str, &str)],
        overrides: &[&str],
        now_ms: u64,
    ) -> Verdict {
        match self.decide(method, path, token_headers, overrides, now_ms) {
            Verdict::NeedKeys { provider, .. } if self.sync_keys(provider, now_ms) => {
                self.decide(method, path, token_headers, overrides, now_ms)
            }
            other => other,
        }
    }

    /// Counts and logs a final verdict.
    fn finish(&mut self, context_id: u32, verdict: Verdict) -> Outcome {
        match verdict {
            Verdict::Allow { headers, withheld } => {
                self.metrics.allowed();
                log::debug!("request {context_id} allowed ({withheld} claim values withheld)");
                Outcome::Continue(headers)
            }
            Verdict::Deny(denial) => {
                self.metrics.denied(denial.reason().name());
                log::debug!("request {context_id} denied: {}", denial.reason().name());
                Outcome::Reply(denial.reply())
            }
            Verdict::Report {
                headers,
                withheld,
                would,
            } => {
                self.metrics
                    .report(would.as_ref().map(|d| d.reason().name()));
                match &would {
                    Some(denial) => log::info!(
                        "request {context_id} continues (report mode); enforced it would get {} {}: {}",
                        denial.reason().status(),
                        denial.reason().name(),
                        denial.reply().body
                    ),
                    None => log::debug!(
                        "request {context_id} allowed (report mode, {withheld} claim values withheld)"
                    ),
                }
                Outcome::Continue(headers)
            }
            Verdict::NeedKeys { pending, .. } => {
                self.finish(context_id, authz::give_up(&pending, 1))
            }
        }
    }

    /// Asks for a fetch on the next tick if the shared schedule allows one, or says when
    /// the next attempt is (`Retry-After` seconds) because the request cannot wait.
    fn request_fetch(
        &mut self,
        i: usize,
        pending: &authz::Pending,
        now_ms: u64,
    ) -> Result<(), u64> {
        let unknown_kid = pending.is_refetch();
        let (Some(slot), Some(provider)) = (self.slots.get_mut(i), self.config.providers.get(i))
        else {
            return Err(1);
        };
        let Some(shared) = &slot.shared else {
            return Err(1);
        };
        let state = shared.fetch_state();
        if slot.fetching || state.in_flight(now_ms) {
            return Ok(());
        }
        if unknown_kid {
            if state.kid_refetch_allowed(now_ms, provider.refetch_cooldown_s.saturating_mul(1000)) {
                slot.want = Want::UnknownKid;
                return Ok(());
            }
        } else if state.refresh_due(now_ms) {
            if slot.want == Want::Nothing {
                slot.want = Want::Refresh;
            }
            return Ok(());
        }
        Err(state.retry_after_s(now_ms))
    }

    /// Forgets a request that ended while held.
    pub fn forget(&mut self, context_id: u32) {
        self.pending.remove(&context_id);
    }

    /// How long the root context may sleep: briefly while requests are held or a fetch is
    /// wanted, otherwise until the next scheduled fetch, at most `idle_ms`.
    pub fn tick_period_ms(&self, now_ms: u64, busy_ms: u64, idle_ms: u64) -> u64 {
        if !self.pending.is_empty() || self.slots.iter().any(|s| s.want != Want::Nothing) {
            return busy_ms;
        }
        self.slots
            .iter()
            .filter(|s| s.shared.is_some() && !s.fetching)
            .map(|s| s.next_attempt_ms.saturating_sub(now_ms))
            .fold(idle_ms, u64::min)
            .clamp(busy_ms, idle_ms)
    }

    /// Reloads provider `i`'s keys if the shared copy changed; true when it did.
    fn sync_keys(&mut self, i: usize, now_ms: u64) -> bool {
        let (Some(slot), Some(provider)) = (self.slots.get_mut(i), self.config.providers.get(i))
        else {
            return false;
        };
        let Some(shared) = &slot.shared else {
            return false;
        };
        let Some((text, version)) = shared.read_keys() else {
            return false;
        };
        if slot.version == Some(version) {
            return false;
        }
        slot.version = Some(version);
        match provider.parse_keys(&text) {
            Ok(set) => {
                log::debug!(
                    "provider {}: worker loaded {} keys (version {version})",
                    provider.name,
                    set.len()
                );
                self.cache.retain_keys(i, |key| set.contains(key));
                slot.keys = Some(set);
                self.report_key_set(i, now_ms);
                true
            }
            Err(e) => {
                log::warn!("provider {}: shared key set unusable: {e}", provider.name);
                false
            }
        }
    }

    /// Records the age and size of provider `i`'s fetched key set.
    fn report_key_set(&self, i: usize, now_ms: u64) {
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        let (Some(shared), Some(keys)) = (&slot.shared, &slot.keys) else {
            return;
        };
        let age_s = now_ms.saturating_sub(shared.fetch_state().fetched_ms) / 1000;
        self.metrics.key_set(i, age_s, keys.len());
    }

    /// Periodic work: pick up new shared keys, start due fetches, settle held requests.
    pub fn tick(&mut self, now_ms: u64) -> Vec<(u32, Outcome)> {
        for i in 0..self.slots.len() {
            if !self.sync_keys(i, now_ms) {
                self.report_key_set(i, now_ms);
            }
            self.maybe_fetch(i, now_ms);
        }
        let (hits, misses) = self.cache.take_counts();
        self.metrics.cache(hits, misses);
        self.metrics
            .disagreements(self.backend.take_disagreements());
        self.settle(now_ms)
    }

    /// Starts a fetch for provider `i` when one is due (or wanted) and this worker wins
    /// the shared lease.
    fn maybe_fetch(&mut self, i: usize, now_ms: u64) {
        let (Some(slot), Some(provider)) = (self.slots.get_mut(i), self.config.providers.get(i))
        else {
            return;
        };
        let Some(shared) = &slot.shared else {
            return;
        };
        if slot.fetching {
            return;
        }
        let want = std::mem::replace(&mut slot.want, Want::Nothing);
        let cooldown_ms = provider.refetch_cooldown_s.saturating_mul(1000);
        let timeout_ms = provider.jwks_timeout_ms;
        let claimed = shared.update_fetch(|s| {
            if want == Want::UnknownKid && s.kid_refetch_allowed(now_ms, cooldown_ms) {
                s.claim(now_ms, timeout_ms, true);
                true
            } else if s.refresh_due(now_ms) {
                s.claim(now_ms, timeout_ms, false);
                true
            } else {
                false
            }
        });
        if claimed.is_none() {
            slot.next_attempt_ms = shared.fetch_state().next_attempt_ms;
            return;
        }
        let first = match provider.keys {
            KeySource::Discovered(_) => Stage::Document(Kind::OpenId),
            _ => Stage::Keys,
        };
        self.dispatch(i, first, None, now_ms);
    }

    /// Starts provider `i`'s callout for `stage` (a discovered provider's JWKS endpoint is
    /// `jwks`); a round of several callouts renews the shared lease at each step.
    fn dispatch(&mut self, i: usize, stage: Stage, jwks: Option<Endpoint>, now_ms: u64) {
        let (Some(slot), Some(provider)) = (self.slots.get_mut(i), self.config.providers.get(i))
        else {
            return;
        };
        let (cluster, target) = match (&provider.keys, stage, jwks) {
            (KeySource::Remote(r), Stage::Keys, _) => (
                r.cluster.as_str(),
                Endpoint {
                    url: r.uri.clone(),
                    authority: r.authority.clone(),
                    path: r.path.clone(),
                },
            ),
            (KeySource::Discovered(d), Stage::Document(kind), _) => {
                (d.discovery_cluster.as_str(), d.plan.endpoint(kind).clone())
            }
            (KeySource::Discovered(d), Stage::Keys, Some(jwks)) => (d.jwks_cluster.as_str(), jwks),
            _ => return,
        };
        let timeout_ms = provider.jwks_timeout_ms;
        if let Some(shared) = &slot.shared {
            shared.update_fetch(|s| {
                s.claim(now_ms, timeout_ms, false);
                true
            });
        }
        let headers = vec![
            (":method", "GET"),
            (":path", target.path.as_str()),
            (":authority", target.authority.as_str()),
            ("accept", "application/json"),
            ("user-agent", "jwt-guard"),
        ];
        match hostcalls::dispatch_http_call(
            cluster,
            headers,
            None,
            vec![],
            Duration::from_millis(timeout_ms),
        ) {
            Ok(token) => {
                log::debug!("provider {}: fetching {}", provider.name, target.url);
                slot.fetching = true;
                self.callouts.insert(token, (i, stage));
            }
            Err(e) => {
                let why = format!("cannot call cluster {cluster:?}: {e:?}");
                self.fetch_failed(i, &why, now_ms);
            }
        }
    }

    /// Handles a discovery document: fetch the keys it names, try the RFC 8414 document
    /// after a 404, or fall back to the last good document's keys.
    fn on_document(
        &mut self,
        i: usize,
        kind: Kind,
        status: Option<String>,
        body_size: usize,
        read_body: impl FnOnce() -> Option<Vec<u8>>,
        now_ms: u64,
    ) {
        let Some(KeySource::Discovered(d)) = self.config.providers.get(i).map(|p| &p.keys) else {
            return;
        };
        let status = status.and_then(|s| s.parse::<u32>().ok());
        let next = d.plan.on_answer(kind, status, body_size, read_body);
        let name = self.config.providers.get(i).map_or("", |p| p.name.as_str());
        let shared = self.slots.get(i).and_then(|s| s.shared.as_ref());
        match next {
            Next::Use(doc) => {
                self.metrics.discovery(i, true);
                let known = shared.and_then(SharedKeys::discovered_jwks_uri);
                if known.as_deref() != Some(doc.jwks.url.as_str()) {
                    log::info!("provider {name}: discovered jwks_uri {}", doc.jwks.url);
                    if let Some(Err(e)) = shared.map(|s| s.publish_jwks_uri(&doc.jwks.url)) {
                        log::warn!("provider {name}: cannot share the discovered jwks_uri: {e:?}");
                    }
                }
                self.dispatch(i, Stage::Keys, Some(doc.jwks), now_ms);
            }
            Next::Try(kind) => self.dispatch(i, Stage::Document(kind), None, now_ms),
            Next::Fail(why) => {
                self.metrics.discovery(i, false);
                let last = shared
                    .and_then(SharedKeys::discovered_jwks_uri)
                    .and_then(|uri| Endpoint::parse(&uri).ok());
                match last {
                    Some(jwks) => {
                        log::warn!(
                            "discovery for provider {name} failed: {why}; keeping the last good document ({})",
                            jwks.url
                        );
                        self.dispatch(i, Stage::Keys, Some(jwks), now_ms);
                    }
                    None => {
                        log::warn!("discovery for provider {name} failed: {why}");
                        self.fetch_failed(i, &format!("discovery failed: {why}"), now_ms);
                    }
                }
            }
        }
    }

    /// Handles a JWKS callout response; returns held requests that can now be answered.
    pub fn on_fetch_response(
        &mut self,
        token: u32,
        status: Option<String>,
        body_size: usize,
        read_body: impl FnOnce() -> Option<Vec<u8>>,
        now_ms: u64,
    ) -> Vec<(u32, Outcome)> {
        let Some((i, stage)) = self.callouts.remove(&token) else {
            return vec![];
        };
        if let Some(slot) = self.slots.get_mut(i) {
            slot.fetching = false;
        }
        if let Stage::Document(kind) = stage {
            self.on_document(i, kind, status, body_size, read_body, now_ms);
            return self.settle(now_ms);
        }
        let result = match status.as_deref() {
            None => Err("no response (timeout or connection failure)".to_string()),
            Some("200") if body_size > MAX_JWKS_BYTES => Err(format!(
                "body of {body_size} bytes exceeds {MAX_JWKS_BYTES}"
            )),
            Some("200") => read_body().ok_or_else(|| "empty body".to_string()),
            Some(other) => Err(format!("HTTP status {other}")),
        };
        let provider = self.config.providers.get(i);
        let parsed = result.and_then(|body| {
            let set = provider
                .ok_or_else(|| "unknown provider".to_string())?
                .parse_keys(&body)
                .map_err(|e| e.to_string())?;
            Ok((body, set))
        });
        match parsed {
            Ok((body, set)) => self.fetch_succeeded(i, &body, &set, now_ms),
            Err(why) => self.fetch_failed(i, &why, now_ms),
        }
        self.sync_keys(i, now_ms);
        self.settle(now_ms)
    }

    fn fetch_succeeded(&mut self, i: usize, body: &[u8], set: &KeySet, now_ms: u64) {
        let (Some(slot), Some(provider)) = (self.slots.get(i), self.config.providers.get(i)) else {
            return;
        };
        let Some(shared) = &slot.shared else { return };
        let unchanged = shared.read_keys().is_some_and(|(old, _)| old == body);
        if !unchanged {
            if let Err(e) = shared.publish_keys(body) {
                log::warn!("provider {}: cannot share keys: {e:?}", provider.name);
            }
            log::info!(
                "provider {}: key set updated, {} keys (kid: {})",
                provider.name,
                set.len(),
                set.kids().join(", ")
            );
            for why in set.skipped() {
                log::warn!("provider {}: skipped {why}", provider.name);
            }
        } else {
            log::debug!("provider {}: key set unchanged", provider.name);
        }
        let refresh_ms = provider.refresh_interval_s.saturating_mul(1000);
        shared.update_fetch(|s| {
            s.succeeded(now_ms, refresh_ms);
            true
        });
        self.metrics.fetch(i, true);
    }

    fn fetch_failed(&mut self, i: usize, why: &str, now_ms: u64) {
        let (Some(slot), Some(provider)) = (self.slots.get(i), self.config.providers.get(i)) else {
            return;
        };
        let Some(shared) = &slot.shared else { return };
        let refresh_ms = provider.refresh_interval_s.saturating_mul(1000);
        let state = shared.update_fetch(|s| {
            s.failed(now_ms, refresh_ms);
            true
        });
        let kept = match shared.read_keys() {
            Some(_) => "keeping the last good keys",
            None => "no keys yet",
        };
        let retry = state.map_or(1, |s| s.retry_after_s(now_ms));
        log::warn!(
            "provider {}: JWKS fetch failed: {why}; {kept}; retry in {retry}s",
            provider.name
        );
        self.metrics.fetch(i, false);
    }

    /// Decides again for every held request; returns those that are settled.
    fn settle(&mut self, now_ms: u64) -> Vec<(u32, Outcome)> {
        let mut settled = Vec::new();
        for (id, held) in std::mem::take(&mut self.pending) {
            let auth: Vec<(&str, &str)> = held
                .token_headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let over: Vec<&str> = held.overrides.iter().map(String::as_str).collect();
            let mut verdict = self.decide(&held.method, &held.path, &auth, &over, now_ms);
            if let Verdict::NeedKeys { .. } = verdict {
                if self.still_fetching(held.provider, held.since_ms, now_ms) {
                    self.pending.insert(id, held);
                    continue;
                }
                verdict =
                    self.decide_with_fresh_keys(&held.method, &held.path, &auth, &over, now_ms);
            }
            if let Verdict::NeedKeys { ref pending, .. } = verdict {
                let shared = self
                    .slots
                    .get(held.provider)
                    .and_then(|s| s.shared.as_ref());
                let retry = shared.map_or(1, |s| s.fetch_state().retry_after_s(now_ms));
                verdict = authz::give_up(pending, retry);
            }
            settled.push((id, self.finish(id, verdict)));
        }
        settled
    }

    /// Whether a fetch that may still bring provider `i`'s keys is under way or wanted.
    fn still_fetching(&self, i: usize, since_ms: u64, now_ms: u64) -> bool {
        let (Some(slot), Some(provider)) = (self.slots.get(i), self.config.providers.get(i)) else {
            return false;
        };
        // A discovery round is up to three callouts (two documents, then the keys).
        let callouts = match provider.keys {
            KeySource::Discovered(_) => 3,
            _ => 1,
        };
        let limit = provider
            .jwks_timeout_ms
            .saturating_mul(callouts)
            .saturating_add(2_000);
        if now_ms.saturating_sub(since_ms) > limit {
            return false;
        }
        slot.fetching
            || slot.want != Want::Nothing
            || slot
                .shared
                .as_ref()
                .is_some_and(|s| s.fetch_state().in_flight(now_ms))
    }
}

/// Applies an outcome to the request of `context_id` (the effective context).
pub fn apply(outcome: &Outcome, resume: bool) {
    match outcome {
        Outcome::Continue(headers) => {
            for (name, value) in headers {
                let _ = hostcalls::set_map_value_bytes(
                    MapType::HttpRequestHeaders,
                    name,
                    Some(value.as_bytes()),
                );
            }
            if resume {
                let _ = hostcalls::resume_http_request();
            }
        }
        Outcome::Reply(reply) => {
            let headers: Vec<(&str, &str)> = reply
                .headers
                .iter()
                .map(|(n, v)| (*n, v.as_str()))
                .collect();
            let _ =
                hostcalls::send_http_response(reply.status, headers, Some(reply.body.as_bytes()));
        }
        Outcome::Wait => {}
    }
}
