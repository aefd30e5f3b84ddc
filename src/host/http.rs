//! The HTTP context: strips spoofed claim headers, then asks the worker for a verdict on
//! the request headers, holding the request while keys are fetched.

use super::now_ms;
use super::worker::{apply, Outcome, Worker};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use std::cell::RefCell;
use std::rc::Rc;

/// Longest tick period while a request is held.
const HELD_TICK_MS: u64 = 20;

/// One request's context.
pub struct Http {
    id: u32,
    worker: Rc<RefCell<Worker>>,
}

impl Http {
    /// A context for request `id` on this worker.
    pub fn new(id: u32, worker: Rc<RefCell<Worker>>) -> Http {
        Http { id, worker }
    }
}

/// A request header as text. Bytes that are not UTF-8 become U+FFFD in place, so a
/// `Bearer` value with such a byte is still read as a (malformed) bearer token and refused,
/// never mistaken for the absence of a token.
fn header_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Context for Http {
    fn on_done(&mut self) -> bool {
        self.worker.borrow_mut().forget(self.id);
        true
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let config = self.worker.borrow().config();
        for header in config.managed_headers() {
            let _ = hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, header, None);
        }
        let headers = hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default();
        let mut method = String::new();
        let mut path = String::new();
        let token_header_names = config.token_headers();
        let mut token_headers = Vec::new();
        let mut overrides = Vec::new();
        for (name, value) in headers {
            match name.as_str() {
                ":method" => method = header_text(value),
                ":path" => path = header_text(value),
                n if token_header_names.contains(&n) => {
                    token_headers.push((name, header_text(value)))
                }
                n if config.is_method_override_header(n) => overrides.push(header_text(value)),
                _ => {}
            }
        }
        let outcome = self.worker.borrow_mut().on_request(
            self.id,
            method,
            path,
            token_headers,
            overrides,
            now_ms(),
        );
        match outcome {
            Outcome::Continue(_) => {
                apply(&outcome, false);
                Action::Continue
            }
            Outcome::Reply(_) => {
                apply(&outcome, false);
                Action::Pause
            }
            Outcome::Wait => {
                let _ = hostcalls::set_tick_period(std::time::Duration::from_millis(HELD_TICK_MS));
                Action::Pause
            }
        }
    }
}
