//! The root context: validates the configuration (a bad one makes Envoy refuse the plugin),
//! owns the worker state, ticks to refresh keys, and receives JWKS callout responses.

use super::backend::Backend;
use super::http::Http;
use super::now_ms;
use super::worker::{apply, Outcome, Worker};
use crate::config::Config;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, MapType};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Longest tick period (nothing waiting, no fetch due sooner).
const IDLE_TICK: Duration = Duration::from_millis(1_000);
/// Shortest tick period (requests held, a fetch wanted or due).
const BUSY_TICK: Duration = Duration::from_millis(20);

/// The plugin's root context on one worker.
pub struct Root {
    id: u32,
    worker: Option<Rc<RefCell<Worker>>>,
    tick: Option<Duration>,
}

impl Root {
    /// The root context `id`, not configured yet.
    pub fn new(id: u32) -> Root {
        Root {
            id,
            worker: None,
            tick: None,
        }
    }

    /// Answers or resumes held requests, then makes this root the effective context again.
    fn settle(&self, settled: Vec<(u32, Outcome)>) {
        if settled.is_empty() {
            return;
        }
        for (context_id, outcome) in settled {
            if hostcalls::set_effective_context(context_id).is_ok() {
                apply(&outcome, true);
            }
        }
        let _ = hostcalls::set_effective_context(self.id);
    }

    fn retune_tick(&mut self) {
        let period = self.worker.as_ref().map_or(IDLE_TICK, |w| {
            let ms = w.borrow().tick_period_ms(
                now_ms(),
                BUSY_TICK.as_millis() as u64,
                IDLE_TICK.as_millis() as u64,
            );
            Duration::from_millis(ms)
        });
        if self.tick != Some(period) && hostcalls::set_tick_period(period).is_ok() {
            self.tick = Some(period);
        }
    }
}

/// Logs only what Envoy would print, so per-request `debug` lines cost nothing when the
/// `wasm` log level is `info` (checked again on every tick).
fn follow_host_log_level() {
    if let Ok(level) = hostcalls::get_log_level() {
        proxy_wasm::set_log_level(level);
    }
}

impl Context for Root {
    fn on_http_call_response(&mut self, token: u32, _: usize, body_size: usize, _: usize) {
        let Some(worker) = self.worker.clone() else {
            return;
        };
        let status = hostcalls::get_map_value_bytes(MapType::HttpCallResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|s| String::from_utf8(s).ok());
        let read_body = || self.get_http_call_response_body(0, body_size);
        let settled =
            worker
                .borrow_mut()
                .on_fetch_response(token, status, body_size, read_body, now_ms());
        self.settle(settled);
        self.retune_tick();
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _: usize) -> bool {
        follow_host_log_level();
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let configured = Config::parse(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|config| {
                let backend = Backend::select(config.signature_backend)
                    .map_err(|e| format!("invalid jwt-guard configuration: {e}"))?;
                Ok((config, backend))
            });
        match configured {
            Ok((config, backend)) => {
                log::info!(
                    "configured {} provider(s), {} rule(s); signatures: {}",
                    config.providers.len(),
                    config.rules.len(),
                    backend.name()
                );
                self.worker = Some(Rc::new(RefCell::new(Worker::new(config, backend))));
                // Tick soon, so the first JWKS fetch starts before traffic arrives.
                self.tick = None;
                let _ = hostcalls::set_tick_period(BUSY_TICK);
                true
            }
            Err(e) => {
                log::error!("{e}");
                false
            }
        }
    }

    fn on_tick(&mut self) {
        let Some(worker) = self.worker.clone() else {
            return;
        };
        let settled = worker.borrow_mut().tick(now_ms());
        self.settle(settled);
        self.retune_tick();
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let worker = self.worker.clone()?;
        Some(Box::new(Http::new(context_id, worker)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
