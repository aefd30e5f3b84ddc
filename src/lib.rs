//! jwt-guard: an Envoy proxy-wasm HTTP filter that admits only requests carrying a valid
//! JWT access token. The pure core (everything but `host`) has no proxy-wasm import and
//! is unit-tested natively; `host` is the thin layer Envoy calls.

pub mod alg;
pub mod authz;
pub mod b64;
pub mod cache;
pub mod claims;
pub mod config;
pub mod discovery;
pub mod issuers;
pub mod json;
pub mod jwks;
pub mod lifecycle;
pub mod metadata;
pub mod policy;
pub mod profile;
pub mod reject;
pub mod schedule;
pub mod sender;
pub mod shared;
pub mod signature;
pub mod sources;
pub mod stepup;
pub mod token;
pub mod verify;

#[cfg(target_arch = "wasm32")]
mod host;

#[cfg(test)]
mod testkeys;
