//! The DPoP options: provider `dpop`; top-level `dpop_origin`, `dpop_proof_window_s`,
//! `dpop_nonce`, `dpop_nonce_secrets_env`. Read from raw JSON values so a value of the wrong type is refused naming
//! its field.

use super::error::{typed, ConfigError, ConfigErrorKind};
use crate::sender::dpop::settings::{DpopMode, Settings};
use serde_json::Value;

/// A provider's `dpop` mode.
pub(super) fn mode(value: Option<Value>, at: &str) -> Result<DpopMode, ConfigError> {
    let field = format!("{at}.dpop");
    match typed::<String>(value, &field)?.as_deref() {
        None | Some("allowed") => Ok(DpopMode::Allowed),
        Some("required") => Ok(DpopMode::Required),
        Some("off") => Ok(DpopMode::Off),
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
    nonce_secrets_env: Option<Value>,
) -> Result<Settings, ConfigError> {
    let origin = typed::<String>(origin, "dpop_origin")?;
    let window = typed::<u64>(window, "dpop_proof_window_s")?;
    let nonce = typed::<bool>(nonce, "dpop_nonce")?;
    let secrets_env = typed::<String>(nonce_secrets_env, "dpop_nonce_secrets_env")?;
    Settings::from_raw(origin.as_deref(), window, nonce, secrets_env)
}
