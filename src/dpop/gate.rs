//! The sender-constraint step of a request, after its token verified: certificate binding
//! (RFC 8705), then the scheme the provider's `dpop` mode admits, then — for a DPoP-bound
//! token — the proof, its key against `cnf.jkt`, and replay. Pure: the process-wide
//! replay store comes in as a [`CasStore`].

use super::htu::Origin;
use super::jwk::JwkError;
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

/// A [`Presentation`] owned by a request that waits for keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub scheme: Scheme,
    pub proofs: Vec<String>,
    pub method: String,
    pub path: String,
    pub origin: Option<Origin>,
    pub peer_certificate: Option<String>,
}

impl Sent {
    /// Keeps what `p` presents.
    pub fn of(p: &Presentation<'_>) -> Sent {
        Sent {
            scheme: p.scheme,
            proofs: p.proofs.iter().map(|s| s.to_string()).collect(),
            method: p.method.to_string(),
            path: p.path.to_string(),
            origin: p.origin.cloned(),
            peer_certificate: p.peer_certificate.map(str::to_string),
        }
    }

    /// The presentation again, for `token`, with `proofs` borrowed from [`Sent::proofs`].
    pub fn presentation<'a>(&'a self, token: &'a str, proofs: &'a [&'a str]) -> Presentation<'a> {
        Presentation {
            scheme: self.scheme,
            token,
            proofs,
            method: &self.method,
            path: &self.path,
            origin: self.origin.as_ref(),
            peer_certificate: self.peer_certificate.as_deref(),
        }
    }
}

/// Why the sender of a valid token is not the one it was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SenderError {
    /// `cnf` of the wrong shape.
    #[error("invalid cnf claim")]
    Confirmation,
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
    /// Every refusal, one per metric ([`ProofError::Key`] stands for all its kinds).
    pub const ALL: [SenderError; 23] = [
        SenderError::Confirmation,
        SenderError::Scheme(SchemeError::BoundAsBearer),
        SenderError::Scheme(SchemeError::DpopRequired),
        SenderError::Scheme(SchemeError::DpopOff),
        SenderError::Scheme(SchemeError::Unbound),
        SenderError::Proof(ProofError::Missing),
        SenderError::Proof(ProofError::Multiple),
        SenderError::Proof(ProofError::Malformed),
        SenderError::Proof(ProofError::Type),
        SenderError::Proof(ProofError::Algorithm),
        SenderError::Proof(ProofError::Key(JwkError::Unusable)),
        SenderError::Proof(ProofError::Signature),
        SenderError::Proof(ProofError::Jti),
        SenderError::Proof(ProofError::Method),
        SenderError::Proof(ProofError::Uri),
        SenderError::Proof(ProofError::IssuedAt),
        SenderError::Proof(ProofError::TokenHash),
        SenderError::Proof(ProofError::Binding),
        SenderError::Proof(ProofError::Nonce),
        SenderError::Proof(ProofError::Replayed),
        SenderError::Proof(ProofError::Unrecorded),
        SenderError::Certificate(BindingError::NoCertificate),
        SenderError::Certificate(BindingError::OtherCertificate),
    ];

    /// The representative of this error in [`SenderError::ALL`].
    pub fn kind(self) -> SenderError {
        match self {
            SenderError::Proof(ProofError::Key(_)) => {
                SenderError::Proof(ProofError::Key(JwkError::Unusable))
            }
            other => other,
        }
    }

    /// The metric suffix.
    pub fn reason(self) -> &'static str {
        match self {
            SenderError::Confirmation => "cnf",
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
