//! Envoy counters and gauges (proxy-wasm metrics). Envoy lists them in its admin `/stats`
//! under `wasmcustom.jwt_guard.*`.

use crate::reject::Reason;
use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// Metric ids of one worker.
#[derive(Default)]
pub struct Metrics {
    allowed: Option<u32>,
    denied: Vec<(&'static str, Option<u32>)>,
    report_allowed: Option<u32>,
    report: Vec<(&'static str, Option<u32>)>,
    cache_hit: Option<u32>,
    cache_miss: Option<u32>,
    disagreements: Option<u32>,
    providers: Vec<ProviderMetrics>,
}

#[derive(Default)]
struct ProviderMetrics {
    fetch_success: Option<u32>,
    fetch_failure: Option<u32>,
    discovery_success: Option<u32>,
    discovery_failure: Option<u32>,
    age_s: Option<u32>,
    keys: Option<u32>,
}

fn define(kind: MetricType, name: &str) -> Option<u32> {
    hostcalls::define_metric(kind, name)
        .map_err(|e| log::warn!("cannot define metric {name}: {e:?}"))
        .ok()
}

fn add(id: Option<u32>, n: i64) {
    if let Some(id) = id {
        let _ = hostcalls::increment_metric(id, n);
    }
}

impl Metrics {
    /// Defines every metric for these provider names.
    pub fn define<'a>(providers: impl Iterator<Item = &'a str>) -> Metrics {
        let counter = |name: String| define(MetricType::Counter, &name);
        let gauge = |name: String| define(MetricType::Gauge, &name);
        Metrics {
            allowed: counter("jwt_guard.allowed".into()),
            denied: Reason::ALL
                .iter()
                .map(|r| (r.name(), counter(format!("jwt_guard.denied.{}", r.name()))))
                .collect(),
            report_allowed: counter("jwt_guard.report.allowed".into()),
            report: Reason::ALL
                .iter()
                .map(|r| (r.name(), counter(format!("jwt_guard.report.{}", r.name()))))
                .collect(),
            cache_hit: counter("jwt_guard.token_cache.hit".into()),
            cache_miss: counter("jwt_guard.token_cache.miss".into()),
            disagreements: counter("jwt_guard.signature_disagreements".into()),
            providers: providers
                .map(|p| ProviderMetrics {
                    fetch_success: counter(format!("jwt_guard.jwks_fetch_success.{p}")),
                    fetch_failure: counter(format!("jwt_guard.jwks_fetch_failure.{p}")),
                    discovery_success: counter(format!("jwt_guard.discovery_success.{p}")),
                    discovery_failure: counter(format!("jwt_guard.discovery_failure.{p}")),
                    age_s: gauge(format!("jwt_guard.jwks_age_s.{p}")),
                    keys: gauge(format!("jwt_guard.jwks_keys.{p}")),
                })
                .collect(),
        }
    }

    /// Counts an admitted request.
    pub fn allowed(&self) {
        add(self.allowed, 1);
    }

    /// Counts a denied request by reason.
    pub fn denied(&self, reason: &str) {
        let id = self
            .denied
            .iter()
            .find(|(r, _)| *r == reason)
            .and_then(|(_, id)| *id);
        add(id, 1);
    }

    /// Counts the verdict a `report`-mode rule would have had: `None` allowed, else the
    /// refusal's reason.
    pub fn report(&self, reason: Option<&str>) {
        let id = match reason {
            None => self.report_allowed,
            Some(reason) => self
                .report
                .iter()
                .find(|(r, _)| *r == reason)
                .and_then(|(_, id)| *id),
        };
        add(id, 1);
    }

    /// Counts a discovery round's outcome for provider `i`.
    pub fn discovery(&self, i: usize, ok: bool) {
        if let Some(p) = self.providers.get(i) {
            add(
                if ok {
                    p.discovery_success
                } else {
                    p.discovery_failure
                },
                1,
            );
        }
    }

    /// Counts token-cache hits and misses.
    pub fn cache(&self, hits: u64, misses: u64) {
        add(self.cache_hit, i64::try_from(hits).unwrap_or(i64::MAX));
        add(self.cache_miss, i64::try_from(misses).unwrap_or(i64::MAX));
    }

    /// Counts disagreements between signature backends (`both`).
    pub fn disagreements(&self, n: u64) {
        if n > 0 {
            add(self.disagreements, i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// Counts a JWKS fetch outcome for provider `i`.
    pub fn fetch(&self, i: usize, ok: bool) {
        if let Some(p) = self.providers.get(i) {
            add(if ok { p.fetch_success } else { p.fetch_failure }, 1);
        }
    }

    /// Records the age and size of provider `i`'s key set.
    pub fn key_set(&self, i: usize, age_s: u64, keys: usize) {
        if let Some(p) = self.providers.get(i) {
            if let Some(id) = p.age_s {
                let _ = hostcalls::record_metric(id, age_s);
            }
            if let Some(id) = p.keys {
                let _ = hostcalls::record_metric(id, keys as u64);
            }
        }
    }
}
