//! Development tools for jwt-guard: `dev-idp` (a local Auth0-like identity provider)
//! and `echo-upstream` (a backend that echoes what it receives). Both run on the small
//! HTTP/1.1 server in [`http`]; development and demo use only.

pub mod cli;
pub mod echo;
pub mod http;
pub mod idp;

use std::net::{SocketAddr, TcpListener};

/// Binds `addr` (text like `127.0.0.1:9000`), with an error message that names it.
pub fn bind(addr: &str) -> Result<TcpListener, String> {
    let parsed: SocketAddr = addr
        .parse()
        .map_err(|_| format!("--listen wants IP:PORT (like 127.0.0.1:9000), got {addr:?}"))?;
    TcpListener::bind(parsed).map_err(|err| {
        format!("cannot listen on {parsed}: {err} (is another program using the port?)")
    })
}
