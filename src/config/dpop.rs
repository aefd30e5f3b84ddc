//! The DPoP options: provider `dpop`; top-level `dpop_origin`, `dpop_proof_window_s`,
//! `dpop_nonce`; and what every 401 challenge offers, derived from the providers. Read from
//! raw JSON values so a value of the wrong type is refused naming its field.

use super::error::{typed, ConfigError, ConfigErrorKind};
use super::provider::Provider;
use crate::alg::Algorithm;
use crate::metadata::ResourceMetadata;
use crate::reject::challenge::Offer;
use crate::sender::dpop::settings::{Mode, Settings};
use serde_json::Value;

/// A provider's `dpop` mode.
pub(super) fn mode(value: Option<Value>, at: &str) -> Result<Mode, ConfigError> {
    let field = format!("{at}.dpop");
    match typed::<String>(value, &field)?.as_deref() {
        None | Some("allowed") => Ok(Mode::Allowed),
        Some("required") => Ok(Mode::Required),
        Some("off") => Ok(Mode::Off),
        Some(other) => Err(ConfigError::new(
            field,
            ConfigErrorKind::Invalid(format!("{other:?} is not one of allowed, required, off")),
        )),
    }
}

/// The top-level DPoP options.
pub(super) fn settings(
    origin: Option<Value>,
    window: Option<Value>,
    nonce: Option<Value>,
) -> Result<Settings, ConfigError> {
    let origin = typed::<String>(origin, "dpop_origin")?;
    let window = typed::<u64>(window, "dpop_proof_window_s")?;
    let nonce = typed::<bool>(nonce, "dpop_nonce")?;
    Ok(Settings::from_raw(origin.as_deref(), window, nonce)?)
}

/// The proof algorithms some provider accepts, in jwt-guard's order.
pub(super) fn proof_algorithms(providers: &[Provider]) -> Vec<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .filter(|a| {
            providers
                .iter()
                .any(|p| p.dpop.accepts_dpop() && p.algorithms.contains(a))
        })
        .collect()
}

/// What every 401 challenge offers.
pub(super) fn offer(providers: &[Provider], metadata: Option<&ResourceMetadata>) -> Offer {
    let algs: Vec<&str> = proof_algorithms(providers)
        .into_iter()
        .map(Algorithm::name)
        .collect();
    Offer {
        bearer: providers.iter().any(|p| p.dpop.accepts_bearer()),
        dpop: !algs.is_empty(),
        algs: algs.join(" "),
        resource_metadata: metadata.map(|m| m.url().to_string()),
    }
}
