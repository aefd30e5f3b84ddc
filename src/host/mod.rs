//! The thin proxy-wasm layer: Envoy's entry point, root and HTTP contexts, JWKS callouts,
//! shared data and metrics. All decisions are made by the pure core.

mod backend;
mod http;
mod keystore;
mod metrics;
mod root;
mod worker;

use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|id| Box::new(root::Root::new(id)));
}}

/// Milliseconds since the epoch, from the host clock.
fn now_ms() -> u64 {
    proxy_wasm::hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
