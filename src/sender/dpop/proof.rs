//! A DPoP proof checked as RFC 9449 §4.3 requires: one `DPoP` header holding a compact JWS
//! of `typ` `dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` that verifies the
//! signature, and claims `jti`, `htm`, `htu`, `iat`, `ath` (and `nonce` when the server
//! issues nonces) matching the request. Replay is checked after, in [`super::replay`].

use super::htu::{self, Origin};
use super::jwk::{JwkError, ProofKey};
use super::nonce::Nonces;
use crate::alg::Algorithm;
use crate::signature::SignatureCheck;
use crate::token;
use crate::token::TokenError;
use serde_json::{Map, Value};

/// Largest proof accepted, in bytes (an RSA-4096 `jwk` and signature fit).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// Longest `jti` accepted.
const MAX_JTI_LEN: usize = 256;

/// Why a proof is refused; each has a metric suffix and a fixed description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ProofError {
    /// The DPoP scheme without a `DPoP` header.
    #[error("DPoP proof missing")]
    Missing,
    /// More than one `DPoP` header.
    #[error("more than one DPoP header")]
    Multiple,
    /// Not a well-formed compact JWS, or claims of the wrong type.
    #[error("DPoP proof is not a well-formed JWT")]
    Malformed,
    /// `typ` is not `dpop+jwt`.
    #[error("DPoP proof typ is not dpop+jwt")]
    Type,
    /// `alg` not asymmetric or not allowed.
    #[error("DPoP proof alg not accepted")]
    Algorithm,
    /// The `jwk` header is absent, private or unusable.
    #[error("DPoP proof jwk: {0}")]
    Key(JwkError),
    /// The signature does not verify under the `jwk`.
    #[error("DPoP proof signature invalid")]
    Signature,
    /// `jti` absent or too long.
    #[error("DPoP proof jti missing or too long")]
    Jti,
    /// `htm` differs from the request method.
    #[error("DPoP proof htm does not match the request method")]
    Method,
    /// `htu` differs from the request URI.
    #[error("DPoP proof htu does not match the request URI")]
    Uri,
    /// `iat` outside the accepted window.
    #[error("DPoP proof iat outside the accepted window")]
    IssuedAt,
    /// `ath` is not the hash of the access token.
    #[error("DPoP proof ath does not match the access token")]
    TokenHash,
    /// The proof's key is not the one the token is bound to.
    #[error("DPoP proof key does not match the token's cnf.jkt")]
    Binding,
    /// A current server nonce is required.
    #[error("DPoP proof requires a current server nonce")]
    Nonce,
    /// The proof was used before.
    #[error("DPoP proof already used")]
    Replayed,
    /// The proof could not be recorded against replay.
    #[error("DPoP proof could not be recorded; retry with a new proof")]
    Unrecorded,
}

impl ProofError {
    /// Every variant (with a representative [`JwkError`]), for metric definitions.
    pub const ALL: [ProofError; 16] = [
        ProofError::Missing,
        ProofError::Multiple,
        ProofError::Malformed,
        ProofError::Type,
        ProofError::Algorithm,
        ProofError::Key(JwkError::Unusable),
        ProofError::Signature,
        ProofError::Jti,
        ProofError::Method,
        ProofError::Uri,
        ProofError::IssuedAt,
        ProofError::TokenHash,
        ProofError::Binding,
        ProofError::Nonce,
        ProofError::Replayed,
        ProofError::Unrecorded,
    ];

    /// The metric suffix.
    pub fn reason(self) -> &'static str {
        match self {
            ProofError::Missing => "dpop_missing",
            ProofError::Multiple => "dpop_multiple",
            ProofError::Malformed => "dpop_malformed",
            ProofError::Type => "dpop_typ",
            ProofError::Algorithm => "dpop_alg",
            ProofError::Key(_) => "dpop_jwk",
            ProofError::Signature => "dpop_signature",
            ProofError::Jti => "dpop_jti",
            ProofError::Method => "dpop_htm",
            ProofError::Uri => "dpop_htu",
            ProofError::IssuedAt => "dpop_iat",
            ProofError::TokenHash => "dpop_ath",
            ProofError::Binding => "dpop_binding",
            ProofError::Nonce => "dpop_nonce",
            ProofError::Replayed => "dpop_replay",
            ProofError::Unrecorded => "dpop_unrecorded",
        }
    }

    /// The RFC 9449 `error` code of the challenge.
    pub fn error_code(self) -> &'static str {
        match self {
            ProofError::Nonce => "use_dpop_nonce",
            // §7.1: a key that does not match the binding makes the token invalid here.
            ProofError::Binding => "invalid_token",
            _ => "invalid_dpop_proof",
        }
    }
}

/// What the proof must match: the request's method and URI, and its access token.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// `:method`.
    pub method: &'a str,
    /// The origin clients address (`dpop_origin`, else `:scheme` + `:authority`).
    pub origin: &'a Origin,
    /// `:path`, query included (it is ignored).
    pub path: &'a str,
    /// The access token the proof must be bound to (`ath`).
    pub access_token: &'a str,
}

/// What the configuration allows.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// Algorithms allowed for proofs.
    pub algorithms: &'a [Algorithm],
    /// `dpop_proof_window_s`.
    pub window_s: u64,
    /// `clock_skew_s`.
    pub skew_s: u64,
    /// Server nonces, when `dpop_nonce` is on.
    pub nonces: Option<&'a Nonces>,
}

/// A proof that passed every check but replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 thumbprint of the proof key.
    pub jkt: String,
    /// The proof's `jti`.
    pub jti: String,
}

/// The single `DPoP` header value of a request. Envoy joins repeated header lines with
/// `,`, which a compact JWS never contains, so a comma also means several headers.
pub fn single<'a>(values: &[&'a str]) -> Result<&'a str, ProofError> {
    match values {
        [] => Err(ProofError::Missing),
        [one] if one.contains(',') => Err(ProofError::Multiple),
        [one] => Ok(one.trim_matches([' ', '\t'])),
        _ => Err(ProofError::Multiple),
    }
}

/// Checks `proof` against `req` at `now`; the signature goes through `backend`.
pub fn check(
    proof: &str,
    req: &Expected<'_>,
    policy: &Policy<'_>,
    now: u64,
    backend: &dyn SignatureCheck,
) -> Result<Proof, ProofError> {
    // The header is decoded once: judged here, then finished into the claims.
    let opened = token::open(proof, MAX_PROOF_BYTES).map_err(|_| ProofError::Malformed)?;
    let header = &opened.header;
    match header.get("typ") {
        Some(Value::String(t)) if t.eq_ignore_ascii_case("dpop+jwt") => {}
        _ => return Err(ProofError::Type),
    }
    let alg = match header.get("alg") {
        Some(Value::String(name)) => Algorithm::parse(name)
            .filter(|a| policy.algorithms.contains(a))
            .ok_or(ProofError::Algorithm)?,
        _ => return Err(ProofError::Algorithm),
    };
    let key = ProofKey::from_header(header, alg).map_err(ProofError::Key)?;
    let jws = opened.finish().map_err(|e| match e {
        TokenError::Algorithm(_) => ProofError::Algorithm,
        _ => ProofError::Malformed,
    })?;
    let claims = &jws.claims;
    let jti = claims.jwt_id.as_deref().unwrap_or("");
    if jti.is_empty() || jti.len() > MAX_JTI_LEN {
        return Err(ProofError::Jti);
    }
    let custom = &claims.custom;
    if text(custom, "htm") != Some(req.method) {
        return Err(ProofError::Method);
    }
    if !text(custom, "htu").is_some_and(|u| htu::matches(u, req.origin, req.path)) {
        return Err(ProofError::Uri);
    }
    let iat = claims.issued_at.ok_or(ProofError::IssuedAt)?.as_secs();
    let oldest = now.saturating_sub(policy.window_s.saturating_add(policy.skew_s));
    if iat < oldest || iat > now.saturating_add(policy.skew_s) {
        return Err(ProofError::IssuedAt);
    }
    let ath = crate::sender::sha256_b64(req.access_token.as_bytes());
    if !text(custom, "ath").is_some_and(|a| crate::sender::constant_time_eq(a, &ath)) {
        return Err(ProofError::TokenHash);
    }
    backend
        .check(&key.key, &jws)
        .map_err(|_| ProofError::Signature)?;
    if let Some(nonces) = policy.nonces {
        if !claims
            .nonce
            .as_deref()
            .is_some_and(|n| nonces.accepts(n, now))
        {
            return Err(ProofError::Nonce);
        }
    }
    Ok(Proof {
        jkt: key.thumbprint,
        jti: jti.to_string(),
    })
}

/// Checks that the proof's key is the one the token is bound to (`cnf.jkt`).
pub fn check_binding(proof: &Proof, jkt: &str) -> Result<(), ProofError> {
    if crate::sender::constant_time_eq(&proof.jkt, jkt) {
        Ok(())
    } else {
        Err(ProofError::Binding)
    }
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

#[cfg(test)]
#[path = "proof_tests.rs"]
pub(crate) mod tests;
