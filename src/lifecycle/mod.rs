//! The provider lifecycle of one worker, host-free: key sync, fetch scheduling (one fetch
//! per process, by a compare-and-swap lease in shared data), callout answers, held
//! requests and staleness. Events come in ([`Worker::on_request`], [`Worker::on_tick`],
//! [`Worker::on_fetch_answer`]); what the proxy must do comes out as [`Outcome`]s for
//! requests and [`Worker::retune`] for the tick period. Everything else the proxy provides
//! (clock, shared data, callouts, metrics) is behind the [`Host`] trait, so the whole
//! lifecycle is unit-tested natively against a fake host.

mod answer;
pub mod headers;
mod held;
mod host;
pub mod metrics;
mod remote;
mod replies;
pub mod request;
mod sender;
#[cfg(test)]
mod tests;

pub use answer::{Answer, FetchError};
pub use host::{Counter, Gauge, Host};
pub use replies::Prepared;
pub use request::{Plan, Read, RequestHost};

use crate::authz::{self, Context, Pending, Request, Verdict};
use crate::cache::TokenCache;
use crate::config::{Config, KeySource, Provider};
use crate::jwks::KeySet;
use crate::reject::Denial;
use crate::sender::check::Runtime;
use crate::signature::backend::Backend;
use crate::signature::boringssl::Transport;
use crate::signature::rustcrypto::ProofSignature;
use held::Held;
use remote::Remote;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Tick period while requests are held or a fetch is wanted.
pub const BUSY_TICK_MS: u64 = 20;
/// Longest tick period (nothing waiting, no fetch due sooner).
pub const IDLE_TICK_MS: u64 = 1_000;

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Continue upstream with these headers set.
    Continue(Vec<(String, String)>),
    /// Answer locally.
    Reply(Denial),
    /// Hold the request until keys arrive.
    Wait,
}

/// Parses the plugin configuration, reads the DPoP nonce secrets from the VM's environment
/// through `env` (when `dpop_nonce_secrets_env` names a variable) and picks the signature
/// backend (self-testing the host through `transport`); `None`, with the reason logged,
/// makes Envoy refuse it.
pub fn configure(
    bytes: &[u8],
    env: &dyn Fn(&str) -> Option<String>,
    transport: Box<dyn Transport>,
) -> Option<(Config, Backend)> {
    let configured = Config::parse(bytes)
        .map_err(|e| e.to_string())
        .and_then(|mut config| {
            config
                .dpop
                .read_nonce_secrets(env)
                .map_err(|e| format!("invalid jwt-guard configuration: {e}"))?;
            if config.dpop.nonce && config.dpop.nonce_secrets.is_none() {
                log::warn!(
                    "dpop_nonce is on without dpop_nonce_secrets_env: DPoP nonces are valid in \
                     this Envoy process only, so replicas behind one load balancer refuse each \
                     other's (clients retry with use_dpop_nonce)"
                );
            }
            let backend = Backend::select(config.signature_backend, transport)
                .map_err(|e| format!("invalid jwt-guard configuration: {e}"))?;
            Ok((config, backend))
        });
    match &configured {
        Ok((config, backend)) => log::info!(
            "configured {} provider(s), {} rule(s); signatures: {}",
            config.providers.len(),
            config.rules.len(),
            backend.name()
        ),
        Err(e) => log::error!("{e}"),
    }
    configured.ok()
}

/// Where a decision starts: a new request, or a held one going on where it stopped.
enum Step<'r> {
    Decide(&'r Request<'r>),
    Resume(Box<Pending>),
}

/// Where one provider's keys come from, as this worker tracks them.
enum Source {
    Inline,
    Remote(Box<Remote>),
}

/// The state of one worker (one wasm VM).
pub struct Worker {
    config: Rc<Config>,
    sources: Vec<Source>,
    cache: TokenCache,
    backend: Backend,
    held: BTreeMap<u32, Held>,
    tick_ms: Option<u64>,
    /// Whether a request changed what the tick period depends on (held, fetch asked).
    retune_due: bool,
    dpop: sender::DpopState,
    plan: Plan,
    replies: replies::Replies,
    /// Unknown rule names routes have named, each logged once (at most
    /// [`MAX_LOGGED_UNKNOWN_RULES`] are remembered).
    unknown_rules: BTreeSet<String>,
}

/// Most distinct unknown rule names a worker remembers having logged.
pub const MAX_LOGGED_UNKNOWN_RULES: usize = 256;

/// Provider `i`'s keys at `now`, wherever they come from.
fn keys_at<'a>(
    config: &'a Config,
    sources: &'a [Source],
    i: usize,
    now: u64,
) -> Option<&'a KeySet> {
    match (config.providers.get(i).map(|p| &p.keys), sources.get(i)) {
        (Some(KeySource::Inline(set)), _) => Some(set),
        (_, Some(Source::Remote(r))) => r.keys(now),
        _ => None,
    }
}

impl Worker {
    /// A worker for a validated configuration and signature backend; picks up keys other
    /// workers already fetched.
    pub fn new(config: Config, backend: Backend, host: &mut dyn Host) -> Worker {
        let sources = config
            .providers
            .iter()
            .enumerate()
            .map(|(i, p): (usize, &Provider)| match &p.keys {
                KeySource::Remote(jwks) => {
                    let mut remote = Remote::new(i, p, jwks);
                    remote.sync(host);
                    Source::Remote(Box::new(remote))
                }
                KeySource::Discovered(discovered) => {
                    let mut remote = Remote::discovered(i, p, discovered);
                    remote.sync(host);
                    Source::Remote(Box::new(remote))
                }
                KeySource::Inline(set) => {
                    host.gauge(Gauge::KeyCount(i), set.len() as u64);
                    host.gauge(
                        Gauge::RsaExponentRefused(i),
                        set.rsa_exponent_refused() as u64,
                    );
                    for why in set.skipped() {
                        log::warn!("provider {}: skipped {why}", p.name);
                    }
                    Source::Inline
                }
            })
            .collect();
        let dpop = sender::DpopState::new(&config, &backend, host);
        Worker {
            dpop,
            plan: Plan::of(&config),
            replies: replies::Replies::default(),
            retune_due: false,
            cache: TokenCache::new(config.token_cache_size),
            config: Rc::new(config),
            sources,
            backend,
            held: BTreeMap::new(),
            tick_ms: None,
            unknown_rules: BTreeSet::new(),
        }
    }

    /// The configuration this worker runs.
    pub fn config(&self) -> Rc<Config> {
        Rc::clone(&self.config)
    }

    fn remote(&mut self, i: usize) -> Option<&mut Remote> {
        match self.sources.get_mut(i) {
            Some(Source::Remote(r)) => Some(r),
            _ => None,
        }
    }

    fn remotes(&self) -> impl Iterator<Item = &Remote> + Clone {
        self.sources.iter().filter_map(|s| match s {
            Source::Remote(r) => Some(&**r),
            Source::Inline => None,
        })
    }

    /// Decides a request from the top, or resumes a held decision with the current keys.
    fn judge(&mut self, host: &mut dyn Host, step: Step<'_>, now_ms: u64) -> Verdict {
        let proofs = ProofSignature {
            host: Some(self.backend.check()),
            host_algorithms: &self.dpop.host_algorithms,
        };
        let runtime = Runtime {
            settings: &self.config.dpop,
            skew_s: self.config.clock_skew_s,
            store: &*host,
            secret: self.dpop.secret,
            nonces: self.dpop.nonces.as_ref(),
            backend: &proofs,
        };
        let ctx = Context {
            config: &self.config,
            now: now_ms / 1000,
            backend: self.backend.check(),
            sender: Some(&runtime),
        };
        let (config, sources) = (&*self.config, &self.sources);
        let keys = |i| keys_at(config, sources, i, now_ms);
        match step {
            Step::Decide(req) => authz::decide(&ctx, req, keys, &mut self.cache),
            Step::Resume(pending) => authz::resume(&ctx, *pending, keys, &mut self.cache),
        }
    }

    /// How this worker reads requests.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The local reply for `denial`, built once per worker and refusal.
    pub fn reply(&mut self, denial: &Denial) -> Rc<Prepared> {
        self.replies.get(denial, &self.config.offer)
    }

    /// Decides a new request; [`Outcome::Wait`] holds it until keys arrive.
    pub fn on_request(&mut self, host: &mut dyn Host, id: u32, req: &Request<'_>) -> Outcome {
        // The clock only matters for credentials: a request without any is decided
        // without asking the host for the time.
        let credentials = !req.token_headers.is_empty() || !req.dpop.is_empty();
        let now = if credentials { host.now_ms() } else { 0 };
        let mut verdict = self.judge(host, Step::Decide(req), now);
        if let Verdict::NeedKeys { provider, pending } = verdict {
            self.retune_due = true;
            // Another worker may have published newer keys since this one last looked.
            verdict = if self.sync(host, provider) {
                self.judge(host, Step::Resume(Box::new(pending)), now)
            } else {
                Verdict::NeedKeys { provider, pending }
            };
        }
        let Verdict::NeedKeys { provider, pending } = verdict else {
            return self.finish(host, id, verdict);
        };
        let asked = self
            .remote(provider)
            .map(|r| (r.request_fetch(now), r.version()));
        match asked {
            Some((Ok(()), version)) => {
                log::debug!("request {id} held for keys of provider {provider}");
                self.hold(id, Held::new(provider, now, version, pending));
                Outcome::Wait
            }
            Some((Err(retry_after_s), _)) => {
                let verdict = authz::give_up(&pending, retry_after_s);
                self.finish(host, id, verdict)
            }
            None => self.finish(host, id, authz::give_up(&pending, 1)),
        }
    }

    /// Periodic work: catch up with shared keys, start due fetches, settle held requests.
    pub fn on_tick(&mut self, host: &mut dyn Host) -> Vec<(u32, Outcome)> {
        let now = host.now_ms();
        self.dpop.refresh(host);
        for i in 0..self.sources.len() {
            self.sync(host, i);
            if let Some(r) = self.remote(i) {
                r.report(host, now);
                r.maybe_fetch(host);
            }
        }
        let (hits, misses) = self.cache.take_counts();
        host.count(Counter::CacheHit, hits);
        host.count(Counter::CacheMiss, misses);
        host.count(Counter::Disagreements, self.backend.take_disagreements());
        self.settle(host)
    }

    /// Handles the answer to callout `token`; returns the held requests now settled.
    pub fn on_fetch_answer(
        &mut self,
        host: &mut dyn Host,
        token: u32,
        answer: Answer<'_>,
    ) -> Vec<(u32, Outcome)> {
        let Some(i) = self
            .sources
            .iter()
            .position(|s| matches!(s, Source::Remote(r) if r.callout() == Some(token)))
        else {
            return vec![];
        };
        if self.remote(i).is_some_and(|r| r.answered(host, answer)) {
            self.keys_changed(i, host.now_ms());
        }
        self.settle(host)
    }

    /// The tick period the proxy should switch to, if it differs from the current one:
    /// short while requests are held or a fetch is wanted, else until the next scheduled
    /// fetch, within [`BUSY_TICK_MS`]..=[`IDLE_TICK_MS`]. The only owner of the period.
    pub fn retune(&mut self, now_ms: u64) -> Option<u64> {
        self.retune_due = false;
        let period = {
            let remotes = self.remotes();
            if self.has_held() || remotes.clone().any(Remote::wants_fetch) {
                BUSY_TICK_MS
            } else {
                remotes
                    .filter(|r| r.callout().is_none())
                    .map(|r| r.next_attempt_ms().saturating_sub(now_ms))
                    .fold(IDLE_TICK_MS, u64::min)
                    .clamp(BUSY_TICK_MS, IDLE_TICK_MS)
            }
        };
        if self.tick_ms == Some(period) {
            return None;
        }
        self.tick_ms = Some(period);
        Some(period)
    }

    /// Whether the last requests changed what the tick period depends on, so the proxy
    /// should [`Worker::retune`] (otherwise only ticks and callout answers do).
    pub fn retune_due(&self) -> bool {
        self.retune_due
    }

    /// Catches up with provider `i`'s shared keys; true when they changed.
    fn sync(&mut self, host: &mut dyn Host, i: usize) -> bool {
        let changed = self.remote(i).is_some_and(|r| r.sync(host));
        if changed {
            self.keys_changed(i, host.now_ms());
        }
        changed
    }

    /// Drops cached verdicts of keys provider `i` no longer publishes.
    fn keys_changed(&mut self, i: usize, now_ms: u64) {
        let keys = keys_at(&self.config, &self.sources, i, now_ms);
        self.cache
            .retain_keys(i, |key| keys.is_some_and(|s| s.contains(key)));
    }

    /// Logs a route naming an unknown rule, once per name.
    fn log_unknown_rule(&mut self, name: &str) {
        if self.unknown_rules.len() >= MAX_LOGGED_UNKNOWN_RULES || self.unknown_rules.contains(name)
        {
            return;
        }
        self.unknown_rules.insert(name.to_string());
        log::warn!(
            "a route names unknown rule {name:?} (filter_metadata.jwt_guard.rule): its requests are refused (500 unknown_route_rule); logged once per name per worker"
        );
    }

    /// Counts and logs a final verdict (a count of 0 is no host call).
    fn finish(&mut self, host: &mut dyn Host, id: u32, verdict: Verdict) -> Outcome {
        match verdict {
            Verdict::Allow { headers, withheld } => {
                host.count(Counter::Allowed, 1);
                if withheld > 0 {
                    host.count(Counter::ClaimsWithheld, u64::from(withheld));
                }
                log::debug!("request {id} allowed ({withheld} claim values withheld)");
                Outcome::Continue(headers)
            }
            Verdict::Deny(denial) => {
                let reason = denial.reason();
                host.count(Counter::Denied(reason), 1);
                if let Denial::UnknownRouteRule(name) = &denial {
                    self.log_unknown_rule(name);
                }
                log::debug!("request {id} denied: {}", reason.name());
                Outcome::Reply(denial)
            }
            Verdict::Report {
                headers,
                withheld,
                would,
            } => {
                if withheld > 0 {
                    host.count(Counter::ClaimsWithheld, u64::from(withheld));
                }
                match would {
                    None => {
                        host.count(Counter::ReportAllowed, 1);
                        log::debug!("request {id} allowed (report mode)");
                    }
                    Some(denial) => {
                        let reason = denial.reason();
                        host.count(Counter::Reported(reason), 1);
                        log::info!(
                            "request {id} continues (report mode); enforced it would get {} {}: {}",
                            reason.status(),
                            reason.name(),
                            denial.reply().body
                        );
                    }
                }
                Outcome::Continue(headers)
            }
            Verdict::NeedKeys { pending, .. } => self.finish(host, id, authz::give_up(&pending, 1)),
        }
    }
}

/// Requests held while keys are fetched: each goes on from where its decision stopped
/// once its provider's keys change, or gets its fallback answer once no fetch can bring
/// them any more.
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
