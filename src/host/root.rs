//! The root context: validates the configuration (a bad one makes Envoy refuse the
//! plugin), owns the worker's lifecycle, ticks, and receives JWKS callout answers.

use super::http::Http;
use super::outcome::apply;
use super::proxy::{header, Foreign, Proxy, State};
use crate::lifecycle::{configure, Answer, Outcome, Worker};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, MapType};
use std::cell::RefCell;
use std::rc::Rc;

/// The plugin's root context on one worker.
pub struct Root {
    id: u32,
    state: Option<Rc<RefCell<State>>>,
}

impl Root {
    /// The root context `id`, not configured yet.
    pub fn new(id: u32) -> Root {
        Root { id, state: None }
    }

    /// Answers or resumes settled held requests, then applies the tick period.
    fn settle(&self, state: &mut State, settled: Vec<(u32, Outcome)>) {
        for (context_id, outcome) in &settled {
            if hostcalls::set_effective_context(*context_id).is_ok() {
                apply(&mut state.worker, outcome, true);
            }
        }
        if !settled.is_empty() {
            let _ = hostcalls::set_effective_context(self.id);
        }
        state.retune();
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
        let Some(state) = self.state.clone() else {
            return;
        };
        let header = |name| header(MapType::HttpCallResponseHeaders, name);
        let answer = Answer {
            status: header(":status").and_then(|s| s.parse().ok()),
            retry_after: header("retry-after"),
            body_size,
            read_body: Box::new(|| {
                hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
                    .ok()
                    .flatten()
            }),
        };
        let mut state = state.borrow_mut();
        let State { worker, host } = &mut *state;
        let settled = worker.on_fetch_answer(host, token, answer);
        self.settle(&mut state, settled);
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _: usize) -> bool {
        follow_host_log_level();
        #[cfg(feature = "wycheproof")]
        super::wycheproof::report();
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        // The VM's environment: what vm_config.environment_variables passes (WASI environ).
        let env = |name: &str| std::env::var(name).ok();
        let Some((config, backend)) = configure(&bytes, &env, Box::new(Foreign)) else {
            return false;
        };
        let mut host = Proxy::new(&config);
        let worker = Worker::new(config, backend, &mut host);
        let mut state = State { worker, host };
        // Ticks soon when a fetch is due, so it starts before traffic arrives.
        state.retune();
        self.state = Some(Rc::new(RefCell::new(state)));
        true
    }

    fn on_tick(&mut self) {
        follow_host_log_level();
        let Some(state) = self.state.clone() else {
            return;
        };
        let mut state = state.borrow_mut();
        let State { worker, host } = &mut *state;
        let settled = worker.on_tick(host);
        self.settle(&mut state, settled);
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let state = self.state.clone()?;
        Some(Box::new(Http::new(context_id, state)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
