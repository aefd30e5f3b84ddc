//! The provider lifecycle of one worker, host-free: key sync, fetch scheduling (one fetch
//! per process, by a compare-and-swap lease in shared data), callout answers, held
//! requests and staleness. Events come in ([`Worker::on_request`], [`Worker::on_tick`],
//! [`Worker::on_fetch_answer`]); what the proxy must do comes out as [`Outcome`]s for
//! requests and [`Worker::retune`] for the tick period. Everything else the proxy provides
//! (clock, shared data, callouts, metrics) is behind the [`Host`] trait, so the whole
//! lifecycle is unit-tested natively against a fake host.

mod answer;
pub mod metrics;
mod remote;
#[cfg(test)]
mod tests;

pub use answer::{Answer, FetchError};

use crate::authz::{self, Context, Request, Verdict};
use crate::cache::TokenCache;
use crate::config::{Config, KeySource, Provider};
use crate::hostsig::Backend;
use crate::jwks::KeySet;
use crate::reject::Denial;
use remote::Remote;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Tick period while requests are held or a fetch is wanted.
pub const BUSY_TICK_MS: u64 = 20;
/// Longest tick period (nothing waiting, no fetch due sooner).
pub const IDLE_TICK_MS: u64 = 1_000;
/// `max_stale_s` until the configuration carries it per provider.
const MAX_STALE_S: u64 = 86_400;

/// A shared-data write that did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedError {
    /// Another worker wrote the record since it was read.
    CasMismatch,
    /// Any other failure.
    Failed,
}

/// A counter the lifecycle increments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    Allowed,
    Denied(&'static str),
    CacheHit,
    CacheMiss,
    Disagreements,
    FetchSuccess(usize),
    FetchFailure(usize),
    /// Keys dropped for being older than `max_stale_s` (once per process).
    KeysDropped(usize),
}

/// A gauge the lifecycle records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gauge {
    KeysAge(usize),
    KeyCount(usize),
}

/// What the lifecycle needs from the proxy.
pub trait Host {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> u64;
    /// A random number (refresh jitter).
    fn random(&mut self) -> u64;
    /// A shared-data record and its CAS version; `None` when absent.
    fn shared_get(&self, key: &str) -> Option<(Vec<u8>, u32)>;
    /// Writes a shared-data record if its version is still `cas` (0: unconditionally).
    fn shared_set(&mut self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedError>;
    /// Starts a JWKS callout; its answer comes back with the returned token.
    fn dispatch(
        &mut self,
        jwks: &crate::config::RemoteJwks,
        timeout_ms: u64,
    ) -> Result<u32, String>;
    /// Adds `n` to a counter.
    fn count(&mut self, counter: Counter, n: u64);
    /// Sets a gauge.
    fn gauge(&mut self, gauge: Gauge, value: u64);
}

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

/// A request held for keys.
struct Held {
    provider: usize,
    since_ms: u64,
    /// The provider's key version the request was last judged with.
    version: Option<u32>,
    /// The answer if no newer keys arrive (`Retry-After` filled in when given).
    fallback: Denial,
    method: String,
    path: String,
    authorization: Vec<String>,
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
}

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

/// `denial` with the `Retry-After` of the next fetch attempt.
fn with_retry(denial: Denial, retry_after_s: u64) -> Denial {
    match denial {
        Denial::KeysUnavailable { .. } => Denial::KeysUnavailable { retry_after_s },
        other => other,
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
                    let mut remote = Remote::new(i, p, jwks, MAX_STALE_S);
                    remote.sync(host);
                    Source::Remote(Box::new(remote))
                }
                KeySource::Inline(set) => {
                    host.gauge(Gauge::KeyCount(i), set.len() as u64);
                    Source::Inline
                }
            })
            .collect();
        Worker {
            cache: TokenCache::new(config.token_cache_size),
            config: Rc::new(config),
            sources,
            backend,
            held: BTreeMap::new(),
            tick_ms: None,
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

    fn decide(&mut self, req: &Request<'_>, now_ms: u64) -> Verdict {
        let ctx = Context {
            config: &self.config,
            now: now_ms / 1000,
            backend: self.backend.check(),
        };
        let (config, sources) = (&*self.config, &self.sources);
        authz::decide(
            &ctx,
            req,
            |i| keys_at(config, sources, i, now_ms),
            &mut self.cache,
        )
    }

    /// Decides a new request; [`Outcome::Wait`] holds it until keys arrive.
    pub fn on_request(&mut self, host: &mut dyn Host, id: u32, req: &Request<'_>) -> Outcome {
        let now = host.now_ms();
        let mut verdict = self.decide(req, now);
        if let Verdict::NeedKeys { provider, .. } = verdict {
            // Another worker may have published newer keys since this one last looked.
            if self.sync(host, provider) {
                verdict = self.decide(req, now);
            }
        }
        let Verdict::NeedKeys {
            provider,
            unknown_kid,
        } = verdict
        else {
            return self.finish(host, id, verdict);
        };
        let fallback = Verdict::give_up(unknown_kid, 1);
        let asked = self
            .remote(provider)
            .map(|r| (r.request_fetch(now), r.version()));
        match asked {
            Some((Ok(()), version)) => {
                log::debug!("request {id} held for keys of provider {provider}");
                self.held.insert(
                    id,
                    Held {
                        provider,
                        since_ms: now,
                        version,
                        fallback,
                        method: req.method.to_string(),
                        path: req.path.to_string(),
                        authorization: req.authorization.iter().map(|a| a.to_string()).collect(),
                    },
                );
                Outcome::Wait
            }
            Some((Err(retry_after_s), _)) => {
                let denial = with_retry(fallback, retry_after_s);
                self.finish(host, id, Verdict::Deny(denial))
            }
            None => self.finish(host, id, Verdict::Deny(fallback)),
        }
    }

    /// Periodic work: catch up with shared keys, start due fetches, settle held requests.
    pub fn on_tick(&mut self, host: &mut dyn Host) -> Vec<(u32, Outcome)> {
        let now = host.now_ms();
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

    /// Forgets a request that ended while held.
    pub fn forget(&mut self, id: u32) {
        self.held.remove(&id);
    }

    /// The tick period the proxy should switch to, if it differs from the current one:
    /// short while requests are held or a fetch is wanted, else until the next scheduled
    /// fetch, within [`BUSY_TICK_MS`]..=[`IDLE_TICK_MS`]. The only owner of the period.
    pub fn retune(&mut self, now_ms: u64) -> Option<u64> {
        let remotes = self.sources.iter().filter_map(|s| match s {
            Source::Remote(r) => Some(&**r),
            Source::Inline => None,
        });
        let period = if !self.held.is_empty() || remotes.clone().any(Remote::wants_fetch) {
            BUSY_TICK_MS
        } else {
            remotes
                .filter(|r| r.callout().is_none())
                .map(|r| r.next_attempt_ms().saturating_sub(now_ms))
                .fold(IDLE_TICK_MS, u64::min)
                .clamp(BUSY_TICK_MS, IDLE_TICK_MS)
        };
        (self.tick_ms != Some(period)).then(|| {
            self.tick_ms = Some(period);
            period
        })
    }

    /// Catches up with provider `i`'s shared keys; true when they changed.
    fn sync(&mut self, host: &mut dyn Host, i: usize) -> bool {
        let changed = self.remote(i).is_some_and(|r| r.sync(host));
        if changed {
            self.keys_changed(i, host.now_ms());
        }
        changed
    }

    /// Drops cached verdicts of keys provider `i` no longer has.
    fn keys_changed(&mut self, i: usize, now_ms: u64) {
        let keys = keys_at(&self.config, &self.sources, i, now_ms);
        self.cache.retain_keys(i, |kid| {
            kid.is_some_and(|k| keys.is_some_and(|s| s.has_kid(k)))
        });
    }

    /// Counts and logs a final verdict.
    fn finish(&mut self, host: &mut dyn Host, id: u32, verdict: Verdict) -> Outcome {
        match verdict {
            Verdict::Allow { headers } => {
                host.count(Counter::Allowed, 1);
                log::debug!("request {id} allowed");
                Outcome::Continue(headers)
            }
            Verdict::Deny(denial) => {
                host.count(Counter::Denied(denial.reason()), 1);
                log::debug!("request {id} denied: {}", denial.reason());
                Outcome::Reply(denial)
            }
            Verdict::NeedKeys { unknown_kid, .. } => {
                self.finish(host, id, Verdict::Deny(Verdict::give_up(unknown_kid, 1)))
            }
        }
    }

    /// Resumes held requests whose provider's keys changed, answers those that can no
    /// longer get keys with their fallback, keeps the rest.
    fn settle(&mut self, host: &mut dyn Host) -> Vec<(u32, Outcome)> {
        let now = host.now_ms();
        let mut settled = Vec::new();
        for (id, mut held) in std::mem::take(&mut self.held) {
            let (version, may_wait, retry) = match self.remote(held.provider) {
                Some(r) => (
                    r.version(),
                    r.may_still_get_keys(held.since_ms, now),
                    r.retry_after_s(now),
                ),
                None => (None, false, 1),
            };
            let verdict = if version != held.version {
                let auth: Vec<&str> = held.authorization.iter().map(String::as_str).collect();
                let req = Request {
                    method: &held.method,
                    path: &held.path,
                    authorization: &auth,
                };
                self.decide(&req, now)
            } else {
                Verdict::NeedKeys {
                    provider: held.provider,
                    unknown_kid: false,
                }
            };
            let verdict = match verdict {
                Verdict::NeedKeys { .. } if may_wait => {
                    held.version = version;
                    self.held.insert(id, held);
                    continue;
                }
                Verdict::NeedKeys { .. } => Verdict::Deny(with_retry(held.fallback, retry)),
                other => other,
            };
            settled.push((id, self.finish(host, id, verdict)));
        }
        settled
    }
}
