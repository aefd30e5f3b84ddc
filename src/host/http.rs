//! The HTTP context: strips inbound copies of the headers jwt-guard sets, reads the three
//! headers the decision needs, and applies the lifecycle's outcome.

use super::proxy::State;
use super::reply;
use super::root::retune;
use crate::authz::Request;
use crate::lifecycle::Outcome;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use std::cell::RefCell;
use std::rc::Rc;

/// One request's context.
pub struct Http {
    id: u32,
    state: Rc<RefCell<State>>,
}

impl Http {
    /// A context for request `id` on this worker.
    pub fn new(id: u32, state: Rc<RefCell<State>>) -> Http {
        Http { id, state }
    }
}

/// A request header as text, if present. Bytes that are not UTF-8 become U+FFFD in
/// place, so a `Bearer` value with such a byte is still read as a (malformed) bearer
/// token and refused, never mistaken for the absence of a token. Envoy joins repeated
/// `Authorization` headers into one value (with `,`), which no bearer token can contain.
pub fn header(map: MapType, name: &str) -> Option<String> {
    let bytes = hostcalls::get_map_value_bytes(map, name).ok()??;
    Some(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Applies an outcome to the effective context's request; `resume` continues a held one.
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
        Outcome::Reply(denial) => {
            if let Err(status) = reply::deny(denial) {
                log::warn!("cannot send the local reply (host status {status})");
            }
        }
        Outcome::Wait => {}
    }
}

impl Context for Http {
    fn on_done(&mut self) -> bool {
        self.state.borrow_mut().worker.forget(self.id);
        true
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let mut state = self.state.borrow_mut();
        let config = state.worker.config();
        for name in config.managed_headers() {
            let _ = hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, name, None);
        }
        let header = |name| header(MapType::HttpRequestHeaders, name);
        let method = header(":method").unwrap_or_default();
        let path = header(":path").unwrap_or_default();
        let authorization = header("authorization");
        let authorization: Vec<&str> = authorization.as_deref().into_iter().collect();
        let req = Request {
            method: &method,
            path: &path,
            authorization: &authorization,
        };
        let State { worker, host } = &mut *state;
        let outcome = worker.on_request(host, self.id, &req);
        apply(&outcome, false);
        retune(&mut state);
        match outcome {
            Outcome::Continue(_) => Action::Continue,
            Outcome::Reply(_) | Outcome::Wait => Action::Pause,
        }
    }
}
