//! Local replies with Envoy response-code details (`%RESPONSE_CODE_DETAILS%` in access
//! logs, e.g. `jwt_guard_denied{expired}`), which the SDK's `send_http_response` leaves
//! empty: this calls the ABI's `proxy_send_local_response` itself.

use crate::reject::Denial;

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

/// Headers in the proxy-wasm map encoding: a count, each name and value length (all u32
/// little-endian), then each name and value followed by a NUL.
fn serialize(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    out.extend_from_slice(&len(headers.len()));
    for (name, value) in headers {
        out.extend_from_slice(&len(name.len()));
        out.extend_from_slice(&len(value.len()));
    }
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out
}

/// Answers the current request with the RFC 6750 reply for `denial`; returns the host's
/// status code when it refused (0 is success).
pub fn deny(denial: &Denial) -> Result<(), u32> {
    let reply = denial.reply();
    let details = format!("jwt_guard_denied{{{}}}", denial.reason());
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    let headers = serialize(&headers);
    // SAFETY: every pointer/length pair describes a live buffer owned by this frame, which
    // the host only reads during the call; grpc_status -1 means "not gRPC".
    let status = unsafe {
        send_local_response(
            reply.status,
            details.as_ptr(),
            details.len(),
            reply.body.as_ptr(),
            reply.body.len(),
            headers.as_ptr(),
            headers.len(),
            -1,
        )
    };
    match status {
        0 => Ok(()),
        other => Err(other),
    }
}
