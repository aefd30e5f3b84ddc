//! The sender-constraint and discovery options (issue 12): provider `dpop`; top-level
//! `dpop_origin`, `dpop_proof_window_s`, `dpop_nonce`, `resource_metadata`; rule
//! `acr_values`, `max_age_s`. Read from raw JSON values so a value of the wrong type is
//! refused naming its field, like every other configuration error.

use super::error::{ConfigError, ConfigErrorKind};
use super::provider::Provider;
use crate::alg::Algorithm;
use crate::dpop::challenge::Offer;
use crate::dpop::settings::{FieldError, Mode, Settings};
use crate::metadata::{Defaults, RawResourceMetadata, ResourceMetadata};
use crate::stepup::StepUp;
use serde::de::DeserializeOwned;
use serde_json::Value;

impl From<FieldError> for ConfigError {
    fn from(e: FieldError) -> ConfigError {
        ConfigError::new(e.field, ConfigErrorKind::Invalid(e.message))
    }
}

/// `value` as a `T`, or an error naming `field`.
fn typed<T: DeserializeOwned>(value: Option<Value>, field: &str) -> Result<Option<T>, ConfigError> {
    value
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|e| ConfigError::new(field, ConfigErrorKind::Syntax(e.to_string())))
        })
        .transpose()
}

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

/// A rule's step-up requirement (`acr_values`, `max_age_s`).
pub(super) fn step_up(
    acr_values: Option<Value>,
    max_age_s: Option<Value>,
    at: &str,
) -> Result<Option<StepUp>, ConfigError> {
    let acr = typed::<Vec<String>>(acr_values, &format!("{at}.acr_values"))?;
    let age = typed::<u64>(max_age_s, &format!("{at}.max_age_s"))?;
    Ok(StepUp::from_raw(acr, age, at)?)
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
fn proof_algorithms(providers: &[Provider]) -> Vec<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .filter(|a| {
            providers
                .iter()
                .any(|p| p.dpop.accepts_dpop() && p.algorithms.contains(a))
        })
        .collect()
}

/// `resource_metadata`, its omitted members derived from the providers.
pub(super) fn metadata(
    value: Option<Value>,
    providers: &[Provider],
) -> Result<Option<ResourceMetadata>, ConfigError> {
    let Some(raw) = typed::<RawResourceMetadata>(value, "resource_metadata")? else {
        return Ok(None);
    };
    let defaults = Defaults {
        issuers: providers.iter().map(|p| p.issuer.as_str()).collect(),
        dpop_algorithms: proof_algorithms(providers),
        dpop_required: providers.iter().all(|p| p.dpop == Mode::Required),
    };
    Ok(Some(ResourceMetadata::from_raw(raw, &defaults)?))
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
