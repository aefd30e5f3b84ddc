//! The sender-constraint step of a request, after its token verified: certificate binding
//! (RFC 8705), then the scheme the provider's `dpop` mode admits, then — for a DPoP-bound
//! token — the proof, its key against `cnf.jkt`, and replay. Pure: the process-wide
//! replay store comes in as a [`CasStore`].

use super::htu::Origin;
use super::nonce::Nonces;
use super::proof::{self, Policy, ProofError};
use super::replay::{self, ReplayCache, ReplayError};
use super::scheme::{self, Confirmation, Scheme, SchemeError};
use super::settings::{Mode, Settings};
use super::store::CasStore;
use crate::alg::Algorithm;
use crate::binding::{self, BindingError};
use crate::verify::SignatureCheck;

/// Process-wide inputs of the check.
pub struct Gate<'a> {
    /// The top-level DPoP options.
    pub settings: &'a Settings,
    /// `clock_skew_s`.
    pub skew_s: u64,
    /// Server nonces, when `dpop_nonce` is on.
    pub nonces: Option<&'a Nonces>,
    /// Shared data, for replay.
    pub store: &'a dyn CasStore,
    /// The process secret (fingerprints of proofs).
    pub secret: &'a [u8; 32],
    /// Verifies proof signatures.
    pub backend: &'a dyn SignatureCheck,
}

/// What the request presents besides the token itself.
#[derive(Debug, Clone, Copy)]
pub struct Presentation<'a> {
    /// The `Authorization` scheme.
    pub scheme: Scheme,
    /// The access token.
    pub token: &'a str,
    /// Every `DPoP` header value.
    pub proofs: &'a [&'a str],
    /// `:method`.
    pub method: &'a str,
    /// `:path`.
    pub path: &'a str,
    /// `:scheme` + `:authority`, when the request has them.
    pub origin: Option<&'a Origin>,
    /// The client certificate's SHA-256, hex (`connection.sha256_peer_certificate_digest`).
    pub peer_certificate: Option<&'a str>,
}

/// Why the sender of a valid token is not the one it was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SenderError {
    /// `cnf` of the wrong shape.
    #[error("invalid cnf claim: {0}")]
    Confirmation(&'static str),
    /// Scheme and binding do not go together.
    #[error(transparent)]
    Scheme(SchemeError),
    /// The DPoP proof is refused.
    #[error(transparent)]
    Proof(ProofError),
    /// The client certificate is not the bound one.
    #[error(transparent)]
    Certificate(BindingError),
}

impl SenderError {
    /// The metric suffix.
    pub fn reason(self) -> &'static str {
        match self {
            SenderError::Confirmation(_) => "cnf",
            SenderError::Scheme(e) => e.reason(),
            SenderError::Proof(e) => e.reason(),
            SenderError::Certificate(e) => e.reason(),
        }
    }

    /// The challenge's `error` code.
    pub fn error_code(self) -> &'static str {
        match self {
            SenderError::Proof(e) => e.error_code(),
            _ => "invalid_token",
        }
    }

    /// The scheme whose challenge carries the error.
    pub fn challenge_scheme(self, presented: Scheme) -> Scheme {
        match self {
            SenderError::Proof(_) | SenderError::Scheme(SchemeError::DpopRequired) => Scheme::Dpop,
            _ => presented,
        }
    }
}

/// Checks the sender of a verified token whose claims bind it as `cnf`.
pub fn check(
    gate: &Gate<'_>,
    mode: Mode,
    proof_algorithms: &[Algorithm],
    cnf: &Confirmation,
    p: &Presentation<'_>,
    now: u64,
) -> Result<(), SenderError> {
    if let Some(x5t) = &cnf.x5t_s256 {
        binding::check(x5t, p.peer_certificate).map_err(SenderError::Certificate)?;
    }
    let Some(jkt) = scheme::admit(mode, p.scheme, cnf).map_err(SenderError::Scheme)? else {
        return Ok(());
    };
    let fail = SenderError::Proof;
    let text = proof::single(p.proofs).map_err(fail)?;
    let origin = gate
        .settings
        .origin
        .as_ref()
        .or(p.origin)
        .ok_or(fail(ProofError::Uri))?;
    let req = proof::Request {
        method: p.method,
        origin,
        path: p.path,
        access_token: p.token,
    };
    let policy = Policy {
        algorithms: proof_algorithms,
        window_s: gate.settings.proof_window_s,
        skew_s: gate.skew_s,
        nonces: gate.nonces,
    };
    let checked = proof::check(text, &req, &policy, now, gate.backend).map_err(fail)?;
    proof::check_binding(&checked, jkt).map_err(fail)?;
    let fingerprint = replay::fingerprint(gate.secret, &checked.jkt, &checked.jti);
    ReplayCache::new(gate.settings.proof_window_s, gate.skew_s)
        .check_and_record(gate.store, fingerprint, now)
        .map_err(|e| {
            fail(match e {
                ReplayError::Replayed => ProofError::Replayed,
                ReplayError::Unrecorded => ProofError::Unrecorded,
            })
        })
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
