//! The signature backend chosen at configuration: jwt-simple, Envoy's BoringSSL through
//! the `verify_signature` foreign function, or both (differential checking).

use crate::config::SignatureBackend;
use crate::hostsig::{self, Both, HostSignature, Transport, FOREIGN_FUNCTION};
use crate::verify::{JwtSimple, SignatureCheck};
use proxy_wasm::hostcalls;

/// The host's `verify_signature` foreign function.
pub struct Foreign;

impl Transport for Foreign {
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, String> {
        hostcalls::call_foreign_function(FOREIGN_FUNCTION, Some(arguments))
            .map_err(|status| format!("{status:?}"))?
            .ok_or_else(|| "empty answer".to_string())
    }
}

/// The backend in use on this worker.
pub enum Backend {
    JwtSimple(JwtSimple),
    Host(HostSignature<Foreign>),
    Both(Both<JwtSimple, HostSignature<Foreign>>),
}

impl Backend {
    /// Picks the backend `wanted` asks for; `host` and `both` require the host's self-test
    /// to pass, `auto` falls back to jwt-simple when it does not.
    pub fn select(wanted: SignatureBackend) -> Result<Backend, String> {
        let host = HostSignature::new(Foreign);
        let probe = hostsig::self_test(&host);
        match (wanted, probe) {
            (SignatureBackend::JwtSimple, _) => Ok(Backend::JwtSimple(JwtSimple)),
            (SignatureBackend::Auto | SignatureBackend::Host, Ok(())) => Ok(Backend::Host(host)),
            (SignatureBackend::Both, Ok(())) => Ok(Backend::Both(Both::new(JwtSimple, host))),
            (SignatureBackend::Auto, Err(why)) => {
                log::info!("host signature check unavailable ({why}); using jwt-simple");
                Ok(Backend::JwtSimple(JwtSimple))
            }
            (SignatureBackend::Host | SignatureBackend::Both, Err(why)) => Err(format!(
                "signature_backend: the host's {FOREIGN_FUNCTION} failed its self-test: {why}"
            )),
        }
    }

    /// A short name for the logs.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::JwtSimple(_) => "jwt-simple",
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
