//! DPoP (RFC 9449), read in the request's order: [`proof`] (the `DPoP` header checked as
//! §4.3 requires, with [`htu`] and [`jwk`]), [`nonce`] (§8 server nonces) and [`replay`]
//! (one use per `jti` for the whole process, in shared data, keyed by the process
//! [`secret`]).
//! [`settings`] holds the configuration pieces, [`secrets`] the nonce secrets a fleet shares.

pub mod htu;
pub mod jwk;
pub mod nonce;
pub mod proof;
pub mod replay;
pub mod secret;
pub mod secrets;
pub mod settings;
