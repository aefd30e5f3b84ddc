//! What a lifecycle outcome does to a request: headers set on it, a held one resumed, or a
//! local reply. Local replies carry Envoy response-code details (`%RESPONSE_CODE_DETAILS%`,
//! e.g. `jwt_guard_denied{expired}`), which the SDK's `send_http_response` leaves empty, so
//! this calls the ABI itself.

use crate::lifecycle::{Outcome, Prepared, Worker};
use proxy_wasm::hostcalls;
use proxy_wasm::types::MapType;

/// Applies an outcome to the effective context's request; `resume` continues a held one;
/// a refusal gets `worker`'s reply for it, built once.
pub fn apply(worker: &mut Worker, outcome: &Outcome, resume: bool) {
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
            if let Err(status) = send(&worker.reply(denial)) {
                log::warn!("cannot send the local reply (host status {status})");
            }
        }
        Outcome::Wait => {}
    }
}

#[link(wasm_import_module = "env")]
extern "C" {
    // The status is read as a plain u32: the host may return any value.
    #[link_name = "proxy_send_local_response"]
    fn send_local_response(
        status_code: u32,
        details_data: *const u8,
        details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
}

/// Answers the current request locally with `reply`; returns the host's status code when
/// it refused (0 is success).
pub fn send(reply: &Prepared) -> Result<(), u32> {
    let details = &reply.details;
    // SAFETY: every pointer/length pair describes a live buffer owned by `reply`, which
    // the host only reads during the call; grpc_status -1 means "not gRPC".
    let status = unsafe {
        send_local_response(
            reply.status,
            details.as_ptr(),
            details.len(),
            reply.body.as_ptr(),
            reply.body.len(),
            reply.headers.as_ptr(),
            reply.headers.len(),
            -1,
        )
    };
    (status == 0).then_some(()).ok_or(status)
}
