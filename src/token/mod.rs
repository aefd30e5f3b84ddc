//! Bearer token extraction (RFC 6750 §2.1) and strict JWS compact parsing (RFC 7515 §7.1).
//! Nothing here is trusted yet: the header and claims are only decoded and type-checked.

mod credentials;
mod jws;
#[cfg(test)]
mod tests;

pub use credentials::{bearer, extract, is_b64token, Credentials};
pub use jws::{parse, Jws};

use jwt_simple::claims::JWTClaims;
use serde_json::{Map, Value};

/// Claims beyond the registered ones, kept as JSON.
pub type Claims = JWTClaims<Map<String, Value>>;
