//! What a decision reads: the request's parts ([`Request`]) and the worker's shared
//! inputs ([`Context`]).

use crate::config::Config;
use crate::sender::check::Runtime;
use crate::sender::dpop::htu::Origin;
use crate::sender::mtls::PeerCertificate;
use crate::signature::SignatureCheck;

/// The parts of a request the decision reads.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The request method (`:method`).
    pub method: &'a str,
    /// The request target (`:path`), query included.
    pub path: &'a str,
    /// The values of the headers the token sources read ([`Config::token_headers`]), as
    /// (lower-case name, value) pairs in request order; a name may repeat.
    pub token_headers: &'a [(&'a str, &'a str)],
    /// Values of the method-override headers ([`Config::method_override_headers`]).
    pub method_overrides: &'a [&'a str],
    /// Every `DPoP` header value.
    pub dpop: &'a [&'a str],
    /// `:scheme` + `:authority`, which DPoP's `htu` names (unless `dpop_origin` is set).
    pub origin: Option<&'a Origin>,
    /// The client certificate's SHA-256 in hex, on a mutual-TLS connection, asked for
    /// only by a token bound to a certificate.
    pub peer_certificate: &'a dyn PeerCertificate,
    /// The facts of the route Envoy selected that the rules need ([`Config::route_needs`]).
    pub route: crate::policy::Route<'a>,
}

/// Shared inputs of a decision.
pub struct Context<'a> {
    /// The plugin configuration.
    pub config: &'a Config,
    /// Seconds since the epoch.
    pub now: u64,
    /// What checks signatures (jwt-simple, the host, or both).
    pub backend: &'a dyn SignatureCheck,
    /// Shared data and secrets for DPoP; without them DPoP-bound tokens are refused.
    pub sender: Option<&'a Runtime<'a>>,
}
