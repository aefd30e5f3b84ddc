//! What a token that is not a JWS is, so the client learns what went wrong.

/// Description for a token without any `.`: an opaque token, not a JWT.
pub const OPAQUE: &str = "token is not a JWT: request an access token with this API's audience";
/// Description for a five-segment token: JWE compact serialization.
pub const ENCRYPTED: &str = "token is encrypted (JWE); jwt-guard verifies signed tokens only";

/// What a token is, by its compact serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Three segments: possibly a JWS, to be parsed.
    Jws,
    /// Five segments: JWE (RFC 7516 §7.1).
    Jwe,
    /// No `.` at all: an opaque token (e.g. Auth0's for `/userinfo` when no audience was asked).
    Opaque,
    /// Anything else: malformed.
    Other,
}

impl Shape {
    /// The shape of `token`.
    pub fn of(token: &str) -> Shape {
        match token.bytes().filter(|&b| b == b'.').count() {
            0 => Shape::Opaque,
            2 => Shape::Jws,
            4 => Shape::Jwe,
            _ => Shape::Other,
        }
    }
}
