//! The names of the lifecycle's counters and gauges, as Envoy lists them under
//! `wasmcustom.` in its admin `/stats`.

use super::host::{Counter, Gauge};
use crate::config::Config;
use crate::reject::Reason;

/// Every counter of a configuration, with its metric name.
pub fn counters(config: &Config) -> Vec<(Counter, String)> {
    let mut all = vec![
        (Counter::Allowed, "jwt_guard.allowed".to_string()),
        (Counter::CacheHit, "jwt_guard.token_cache.hit".into()),
        (Counter::CacheMiss, "jwt_guard.token_cache.miss".into()),
        (
            Counter::Disagreements,
            "jwt_guard.signature_disagreements".into(),
        ),
        (Counter::ClaimsWithheld, "jwt_guard.claims_withheld".into()),
    ];
    all.extend(Reason::ALL.iter().map(|r| {
        (
            Counter::Denied(*r),
            format!("jwt_guard.denied.{}", r.name()),
        )
    }));
    all.push((Counter::ReportAllowed, "jwt_guard.report.allowed".into()));
    all.extend(Reason::ALL.iter().map(|r| {
        (
            Counter::Reported(*r),
            format!("jwt_guard.report.{}", r.name()),
        )
    }));
    for (i, p) in config.providers.iter().enumerate() {
        let name = &p.name;
        all.push((
            Counter::FetchSuccess(i),
            format!("jwt_guard.jwks_fetch_success.{name}"),
        ));
        all.push((
            Counter::FetchFailure(i),
            format!("jwt_guard.jwks_fetch_failure.{name}"),
        ));
        all.push((
            Counter::KeysDropped(i),
            format!("jwt_guard.jwks_stale_drops.{name}"),
        ));
        if let crate::config::KeySource::Discovered(_) = p.keys {
            all.push((
                Counter::DiscoverySuccess(i),
                format!("jwt_guard.discovery_success.{name}"),
            ));
            all.push((
                Counter::DiscoveryFailure(i),
                format!("jwt_guard.discovery_failure.{name}"),
            ));
        }
    }
    all
}

/// Every gauge of a configuration, with its metric name.
pub fn gauges(config: &Config) -> Vec<(Gauge, String)> {
    let mut all = Vec::new();
    for (i, p) in config.providers.iter().enumerate() {
        all.push((
            Gauge::KeysAge(i),
            format!("jwt_guard.jwks_age_s.{}", p.name),
        ));
        all.push((
            Gauge::KeyCount(i),
            format!("jwt_guard.jwks_keys.{}", p.name),
        ));
        all.push((
            Gauge::RsaExponentRefused(i),
            format!("jwt_guard.jwks_rsa_exponent_refused.{}", p.name),
        ));
    }
    all
}
