//! The thin proxy-wasm layer: Envoy's entry point, the root and HTTP contexts, and the
//! [`crate::lifecycle::Host`] implementation over proxy-wasm host calls. Every decision
//! is made by the host-free core and lifecycle.

mod http;
mod outcome;
mod proxy;
mod root;
mod route;
#[cfg(feature = "wycheproof")]
mod wycheproof;

use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|id| Box::new(root::Root::new(id)));
}}
