//! The lifecycle's [`Host`] over proxy-wasm: clock, shared data, JWKS callouts and
//! metrics; and the `verify_signature` foreign function as a signature [`Transport`].

use crate::config::{Config, RemoteJwks};
use crate::lifecycle::{headers, metrics, Counter, Gauge, Host, Worker};
use crate::shared::{SharedData, SharedError};
use crate::signature::boringssl::{Transport, TransportError, FOREIGN_FUNCTION};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{MapType, MetricType, Status};
use std::{collections::HashMap, hash::BuildHasher, hash::RandomState, time::Duration};

/// The host's `verify_signature` foreign function.
pub struct Foreign;

impl Transport for Foreign {
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, TransportError> {
        hostcalls::call_foreign_function(FOREIGN_FUNCTION, Some(arguments))
            .map_err(|status| TransportError::Host(status as u32))?
            .ok_or(TransportError::Empty)
    }
}

/// Proxy-wasm as the lifecycle's host, with this worker's metric ids.
pub struct Proxy {
    counters: HashMap<Counter, u32>,
    gauges: HashMap<Gauge, u32>,
}

/// One worker's lifecycle and its host, shared by the root and HTTP contexts.
pub struct State {
    pub worker: Worker,
    pub host: Proxy,
}

impl State {
    /// Applies the tick period the lifecycle asks for (its only owner).
    pub fn retune(&mut self) {
        if let Some(ms) = self.worker.retune(self.host.now_ms()) {
            let _ = hostcalls::set_tick_period(Duration::from_millis(ms));
        }
    }
}

/// A header of `map` as [`headers::text`], if present.
pub fn header(map: MapType, name: &str) -> Option<String> {
    hostcalls::get_map_value_bytes(map, name)
        .ok()
        .flatten()
        .map(headers::text)
}

/// Defines the metrics `names` of one kind; a metric the host refuses is logged and skipped.
fn ids<M: Eq + std::hash::Hash>(kind: MetricType, names: Vec<(M, String)>) -> HashMap<M, u32> {
    let define = |name: &str| {
        hostcalls::define_metric(kind, name).map_err(|e| log::warn!("metric {name}: {e:?}"))
    };
    names
        .into_iter()
        .filter_map(|(m, name)| Some((m, define(&name).ok()?)))
        .collect()
}

impl Proxy {
    /// Defines every metric of `config`.
    pub fn new(config: &Config) -> Proxy {
        Proxy {
            counters: ids(MetricType::Counter, metrics::counters(config)),
            gauges: ids(MetricType::Gauge, metrics::gauges(config)),
        }
    }
}

impl SharedData for Proxy {
    fn shared_get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        match hostcalls::get_shared_data(key) {
            Ok((Some(bytes), Some(cas))) => Some((bytes, cas)),
            _ => None,
        }
    }

    fn shared_set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedError> {
        match hostcalls::set_shared_data(key, Some(value), Some(cas)) {
            Ok(()) => Ok(()),
            Err(Status::CasMismatch) => Err(SharedError::CasMismatch),
            Err(_) => Err(SharedError::Failed),
        }
    }
}

impl Host for Proxy {
    fn now_ms(&self) -> u64 {
        let now = hostcalls::get_current_time().ok();
        let since = now.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        since.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    fn random(&mut self) -> u64 {
        // Keyed from WASI random_get.
        RandomState::new().hash_one(self.now_ms())
    }

    fn dispatch(&mut self, jwks: &RemoteJwks, timeout_ms: u64) -> Result<u32, String> {
        let headers = vec![
            (":method", "GET"),
            (":path", jwks.path.as_str()),
            (":authority", jwks.authority.as_str()),
            ("accept", "application/json"),
            ("user-agent", "jwt-guard"),
        ];
        let timeout = Duration::from_millis(timeout_ms);
        hostcalls::dispatch_http_call(&jwks.cluster, headers, None, vec![], timeout)
            .map_err(|e| format!("cluster {:?}: {e:?}", jwks.cluster))
    }

    fn count(&mut self, counter: Counter, n: u64) {
        if let (Some(id), true) = (self.counters.get(&counter), n > 0) {
            let _ = hostcalls::increment_metric(*id, i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    fn gauge(&mut self, gauge: Gauge, value: u64) {
        if let Some(id) = self.gauges.get(&gauge) {
            let _ = hostcalls::record_metric(*id, value);
        }
    }
}
