//! Bearer token extraction (RFC 6750 §2.1) and strict JWS compact parsing (RFC 7515 §7.1).
//! Nothing here is trusted yet: the header and claims are only decoded and type-checked.

mod credentials;
mod error;
mod jws;
pub mod shape;
#[cfg(test)]
mod tests;

pub use credentials::{bearer, extract, is_b64token, Credentials};
pub use error::TokenError;
pub use jws::{open, parse, Claims, Jws, Opened};
