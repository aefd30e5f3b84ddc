//! The HTTP context: strips inbound copies of the headers jwt-guard sets, reads the
//! headers the decision needs, and applies the lifecycle's outcome.

use super::outcome::{apply, send};
use super::proxy::{header, State};
use super::route::RouteFacts;
use crate::authz::Request;
use crate::lifecycle::{headers, Outcome};
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
        let header = |name: &str| header(MapType::HttpRequestHeaders, name);
        let method = header(":method").unwrap_or_default();
        let path = header(":path").unwrap_or_default();
        let all = || hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default();
        let token_headers = headers::token_headers(&config, header, all);
        let token_headers: Vec<(&str, &str)> = token_headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let overrides = headers::method_overrides(&config, |name| header(name).is_some(), all);
        let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
        let metadata = config.resource_metadata.as_ref();
        if let Some(reply) = metadata.and_then(|m| m.answer(&method, &path)) {
            if let Err(status) = send(&reply, "jwt_guard_resource_metadata") {
                log::warn!("cannot send the metadata document (host status {status})");
            }
            return Action::Pause;
        }
        let dpop = headers::every("dpop", header("dpop").is_some(), all);
        let dpop: Vec<&str> = dpop.iter().map(String::as_str).collect();
        let origin = headers::origin(!dpop.is_empty(), || {
            (header(":scheme"), header(":authority"))
        });
        let peer_certificate = peer_certificate();
        let route = RouteFacts::read(config.route_needs, header);
        let req = Request {
            method: &method,
            path: &path,
            token_headers: &token_headers,
            method_overrides: &overrides,
            dpop: &dpop,
            origin: origin.as_ref(),
            peer_certificate: peer_certificate.as_deref(),
            route: route.route(),
        };
        let State { worker, host } = &mut *state;
        let outcome = worker.on_request(host, self.id, &req);
        apply(&outcome, false, &config.offer);
        state.retune();
        match outcome {
            Outcome::Continue(_) => Action::Continue,
            Outcome::Reply(_) | Outcome::Wait => Action::Pause,
        }
    }
}

/// The client certificate's SHA-256 (hex) on a mutual-TLS connection, for RFC 8705.
fn peer_certificate() -> Option<String> {
    let bytes =
        hostcalls::get_property(crate::sender::mtls::PEER_DIGEST_PROPERTY.to_vec()).ok()??;
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}
