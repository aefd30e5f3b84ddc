//! The HTTP context: reads the request as the lifecycle's [`crate::lifecycle::Plan`] says
//! (removing inbound copies of the headers jwt-guard sets that are present), and applies
//! the lifecycle's outcome.

use super::outcome::{apply, send};
use super::proxy::{header, State};
use super::route::RouteFacts;
use crate::lifecycle::{headers, Outcome, Prepared, RequestHost};
use crate::sender::mtls::PeerCertificate;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use std::cell::{OnceCell, RefCell};
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
        let read = state.worker.plan().read(&config, &mut RequestHeaders);
        let metadata = config.resource_metadata.as_ref();
        if let Some(reply) = metadata.and_then(|m| m.answer(&read.method, &read.path)) {
            let document = Prepared {
                status: reply.status,
                headers: headers::encode_map(&reply.headers),
                body: reply.body,
                details: "jwt_guard_resource_metadata".to_string(),
            };
            if let Err(status) = send(&document) {
                log::warn!("cannot send the metadata document (host status {status})");
            }
            return Action::Pause;
        }
        let route = RouteFacts::read(config.route_needs, |name| {
            header(MapType::HttpRequestHeaders, name)
        });
        let lists = read.lists();
        let peer = Peer::default();
        let req = read.request(&lists, &peer, route.route());
        let State { worker, host } = &mut *state;
        let outcome = worker.on_request(host, self.id, &req);
        apply(worker, &outcome, false);
        if worker.retune_due() {
            state.retune();
        }
        match outcome {
            Outcome::Continue(_) => Action::Continue,
            Outcome::Reply(_) | Outcome::Wait => Action::Pause,
        }
    }
}

/// The current request's headers through proxy-wasm host calls.
struct RequestHeaders;

impl RequestHost for RequestHeaders {
    fn header(&mut self, name: &str) -> Option<Vec<u8>> {
        hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name)
            .ok()
            .flatten()
    }

    fn headers(&mut self) -> Vec<u8> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: the host writes a buffer it allocated in this module's memory through
        // `proxy_on_memory_allocate` (a `Vec` of exactly `size` bytes, leaked), which is
        // taken back here exactly once; a failed or empty answer leaves `data` null.
        unsafe {
            let status = get_header_map_pairs(MAP_REQUEST_HEADERS, &mut data, &mut size);
            if status != 0 || data.is_null() {
                return Vec::new();
            }
            Vec::from_raw_parts(data, size, size)
        }
    }

    fn remove(&mut self, name: &str) {
        let _ = hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, name, None);
    }
}

/// proxy-wasm's `MapType::HttpRequestHeaders`.
const MAP_REQUEST_HEADERS: u32 = 0;

#[link(wasm_import_module = "env")]
extern "C" {
    // Called directly: the SDK's map read copies every pair into its own strings. The
    // status is read as a plain u32: the host may return any value.
    #[link_name = "proxy_get_header_map_pairs"]
    fn get_header_map_pairs(map_type: u32, data: *mut *mut u8, size: *mut usize) -> u32;
}

/// The client certificate's digest, asked of the host the first time a token needs it.
#[derive(Debug, Default)]
struct Peer(OnceCell<Option<String>>);

impl PeerCertificate for Peer {
    fn digest(&self) -> Option<&str> {
        self.0.get_or_init(peer_certificate).as_deref()
    }
}

/// The client certificate's SHA-256 (hex) on a mutual-TLS connection, for RFC 8705.
fn peer_certificate() -> Option<String> {
    let bytes =
        hostcalls::get_property(crate::sender::mtls::PEER_DIGEST_PROPERTY.to_vec()).ok()??;
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}
