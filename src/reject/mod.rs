//! Why a request is refused, and the RFC 6750 answer for it: status, `WWW-Authenticate`
//! challenge and a JSON body. Descriptions are fixed strings: they never echo the token.
//! [`Reason`] is the one list of refusal kinds: metric names, the refusal table of docs/src/operations.md and the
//! tests all come from it.

pub mod challenge;
mod denial;
mod reason;
mod reply;
mod token;

pub use denial::Denial;
pub use reason::Reason;
pub use reply::Reply;

#[cfg(test)]
mod tests;
