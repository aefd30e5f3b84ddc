//! The sender-constraint step of a request, after its token verified: certificate binding
//! (RFC 8705), then the scheme the provider's `dpop` mode admits, then — for a DPoP-bound
//! token — the proof, its key against `cnf.jkt`, and replay. Pure: the process-wide
//! replay store comes in as [`SharedData`].

use super::cnf::Confirmation;
use super::dpop::htu::Origin;
use super::dpop::jwk::JwkError;
use super::dpop::nonce::Nonces;
use super::dpop::proof::{self, Policy, ProofError};
use super::dpop::replay::{self, ReplayCache, ReplayError};
use super::dpop::settings::{DpopMode, Settings};
use super::mtls::{self, BindingError, PeerCertificate};
use super::scheme::{self, Scheme, SchemeError};
use crate::alg::Algorithm;
use crate::shared::{SharedData, SharedError};
use crate::signature::SignatureCheck;

/// What the check runs with: the DPoP options, and the process-wide state a host provides
/// (shared data, the process secret and, with `dpop_nonce`, the nonces derived from it).
pub struct Runtime<'a> {
    /// The top-level DPoP options.
    pub settings: &'a Settings,
    /// `clock_skew_s`.
    pub skew_s: u64,
    /// Shared data, for replay.
    pub store: &'a dyn SharedData,
    /// The process secret.
    pub secret: [u8; 32],
    /// Server nonces, when `dpop_nonce` is on.
    pub nonces: Option<&'a Nonces>,
    /// Verifies proof signatures (over the signing input: see [`crate::signature::rustcrypto`]).
    pub backend: &'a dyn SignatureCheck,
}

/// A store that records nothing: without shared data, proofs cannot be checked for
/// replay, so DPoP-bound tokens are refused (`dpop_unrecorded`).
pub struct NoStore;

impl SharedData for NoStore {
    fn shared_get(&self, _: &str) -> Option<(Vec<u8>, u32)> {
        None
    }

    fn shared_set(&self, _: &str, _: &[u8], _: u32) -> Result<(), SharedError> {
        Err(SharedError::Failed)
    }
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
    pub peer_certificate: &'a dyn PeerCertificate,
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
            peer_certificate: p.peer_certificate.digest().map(str::to_string),
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
            peer_certificate: &self.peer_certificate,
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

    /// When this refusal applies, for operators (the refusal table of docs/src/operations.md).
    pub fn when(self) -> &'static str {
        match self {
            SenderError::Confirmation => "the token's `cnf` claim is not an object of short strings",
            SenderError::Scheme(SchemeError::BoundAsBearer) => "a DPoP-bound token (`cnf.jkt`) sent as `Bearer`",
            SenderError::Scheme(SchemeError::DpopRequired) => "a `Bearer` token for a provider with `dpop: \"required\"`",
            SenderError::Scheme(SchemeError::DpopOff) => "the `DPoP` scheme for a provider with `dpop: \"off\"`",
            SenderError::Scheme(SchemeError::Unbound) => "the `DPoP` scheme with a token that has no `cnf.jkt`",
            SenderError::Proof(ProofError::Missing) => "a DPoP-bound token without a `DPoP` proof header",
            SenderError::Proof(ProofError::Multiple) => "more than one `DPoP` header",
            SenderError::Proof(ProofError::Malformed) => "the proof is not a well-formed compact JWS (or its claims have the wrong types)",
            SenderError::Proof(ProofError::Type) => "the proof's `typ` is not `dpop+jwt`",
            SenderError::Proof(ProofError::Algorithm) => "the proof's `alg` is not on the provider's `algorithms` (`none`, `HS*`, …)",
            SenderError::Proof(ProofError::Key(_)) => "the proof has no public `jwk`, or one with private members, or one unusable with its `alg`",
            SenderError::Proof(ProofError::Signature) => "the proof's signature does not verify under its `jwk`",
            SenderError::Proof(ProofError::Jti) => "the proof has no `jti` (or one over 256 bytes)",
            SenderError::Proof(ProofError::Method) => "the proof's `htm` is not the request method",
            SenderError::Proof(ProofError::Uri) => "the proof's `htu` is not the request URI (normalised, without query)",
            SenderError::Proof(ProofError::IssuedAt) => "the proof's `iat` is older than `dpop_proof_window_s` or in the future (beyond `clock_skew_s`)",
            SenderError::Proof(ProofError::TokenHash) => "the proof's `ath` is not the hash of the access token",
            SenderError::Proof(ProofError::Binding) => "the proof's key is not the one the token's `cnf.jkt` names",
            SenderError::Proof(ProofError::Nonce) => "`dpop_nonce` is on and the proof has no current server nonce",
            SenderError::Proof(ProofError::Replayed) => "the proof's `jti` was already used (on any worker)",
            SenderError::Proof(ProofError::Unrecorded) => "the proof could not be recorded against replay (its bucket is full): retry with a new proof",
            SenderError::Certificate(BindingError::NoCertificate) => "a certificate-bound token (`cnf[\"x5t#S256\"]`) on a connection without a client certificate",
            SenderError::Certificate(BindingError::OtherCertificate) => "a certificate-bound token on a connection with another client certificate",
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
    rt: &Runtime<'_>,
    mode: DpopMode,
    proof_algorithms: &[Algorithm],
    cnf: &Confirmation,
    p: &Presentation<'_>,
    now: u64,
) -> Result<(), SenderError> {
    if let Some(x5t) = &cnf.x5t_s256 {
        mtls::check(x5t, p.peer_certificate.digest()).map_err(SenderError::Certificate)?;
    }
    let Some(jkt) = scheme::admit(mode, p.scheme, cnf).map_err(SenderError::Scheme)? else {
        return Ok(());
    };
    let fail = SenderError::Proof;
    let text = proof::single(p.proofs).map_err(fail)?;
    let origin = rt
        .settings
        .origin
        .as_ref()
        .or(p.origin)
        .ok_or(fail(ProofError::Uri))?;
    let req = proof::Expected {
        method: p.method,
        origin,
        path: p.path,
        access_token: p.token,
    };
    let policy = Policy {
        algorithms: proof_algorithms,
        window_s: rt.settings.proof_window_s,
        skew_s: rt.skew_s,
        nonces: rt.nonces,
    };
    let checked = proof::check(text, &req, &policy, now, rt.backend).map_err(fail)?;
    proof::check_binding(&checked, jkt).map_err(fail)?;
    let fingerprint = replay::fingerprint(&rt.secret, &checked.jkt, &checked.jti);
    ReplayCache::new(rt.settings.proof_window_s, rt.skew_s)
        .check_and_record(rt.store, fingerprint, now)
        .map_err(|e| {
            fail(match e {
                ReplayError::Replayed => ProofError::Replayed,
                ReplayError::Unrecorded => ProofError::Unrecorded,
            })
        })
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
