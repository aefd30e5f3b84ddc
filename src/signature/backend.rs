//! The signature backend chosen at configuration: jwt-simple, Envoy's BoringSSL through
//! the `verify_signature` foreign function, or both (differential checking).

use super::boringssl::{HostSignature, Transport, FOREIGN_FUNCTION};
use super::both::Both;
use super::jwtsimple::JwtSimple;
use super::selftest::{self_test, SelfTestError, Vector};
use super::SignatureCheck;
use crate::config::SignatureBackend;
use thiserror::Error;

/// The host as a boxed transport (the real foreign function, or a fake in tests).
type Host = HostSignature<Box<dyn Transport>>;

/// The backend in use on a worker.
pub enum Backend {
    JwtSimple(JwtSimple),
    Host(Host),
    Both(Both<JwtSimple, Host>),
}

/// Why the requested backend cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BackendError {
    /// `host` or `both` was asked for, and the host failed its self-test.
    #[error("signature_backend: the host's {FOREIGN_FUNCTION} failed its self-test: {0}")]
    SelfTest(SelfTestError),
}

impl Backend {
    /// Picks the backend `wanted` asks for. `host` and `both` require the host's RSA and
    /// EC self-tests to pass; `auto` uses the host for each family whose test passes and
    /// jwt-simple for the rest.
    pub fn select(
        wanted: SignatureBackend,
        transport: Box<dyn Transport>,
    ) -> Result<Backend, BackendError> {
        if wanted == SignatureBackend::JwtSimple {
            return Ok(Backend::JwtSimple(JwtSimple));
        }
        let probe = HostSignature::new(transport, true);
        let rsa = self_test(&probe, Vector::Rsa);
        let ec = self_test(&probe, Vector::Ec);
        let host = HostSignature::new(probe.transport, ec.is_ok());
        match (wanted, rsa, ec) {
            (SignatureBackend::Host, Ok(()), Ok(())) => Ok(Backend::Host(host)),
            (SignatureBackend::Both, Ok(()), Ok(())) => {
                Ok(Backend::Both(Both::new(JwtSimple, host)))
            }
            (SignatureBackend::Host | SignatureBackend::Both, Err(e), _)
            | (SignatureBackend::Host | SignatureBackend::Both, _, Err(e)) => {
                Err(BackendError::SelfTest(e))
            }
            (_, Ok(()), ec) => {
                if let Err(e) = ec {
                    log::info!("host ECDSA check unavailable ({e}); ES* use jwt-simple");
                }
                Ok(Backend::Host(host))
            }
            (_, Err(e), _) => {
                log::info!("host signature check unavailable ({e}); using jwt-simple");
                Ok(Backend::JwtSimple(JwtSimple))
            }
        }
    }

    /// A short name for the logs.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::JwtSimple(_) => "jwt-simple",
            Backend::Host(h) if h.ecdsa() => {
                "host (BoringSSL) for RS*/ES256/ES384, jwt-simple otherwise"
            }
            Backend::Host(_) => "host (BoringSSL) for RS*, jwt-simple otherwise",
            Backend::Both(_) => "both (differential)",
        }
    }

    /// The signature check to use.
    pub fn check(&self) -> &dyn SignatureCheck {
        match self {
            Backend::JwtSimple(b) => b,
            Backend::Host(b) => b,
            Backend::Both(b) => b,
        }
    }

    /// Disagreements between the two backends since the last call (`both` only).
    pub fn take_disagreements(&self) -> u64 {
        match self {
            Backend::Both(b) => b.take_disagreements(),
            _ => 0,
        }
    }
}
