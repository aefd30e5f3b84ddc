//! Configuration errors: the field path (e.g. `providers[prod].audiences`) and what is wrong.

use crate::jwks::JwksError;

/// A configuration error; its text names the field, so Envoy's log says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid jwt-guard configuration: {field}: {kind}")]
pub struct ConfigError {
    /// Where: `providers[prod].refresh_interval_s`, `rules[2].providers`, …
    pub field: String,
    /// What is wrong there.
    pub kind: ConfigErrorKind,
}

/// What is wrong with a configuration field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigErrorKind {
    /// Not JSON, or not the expected shape (unknown key, wrong type).
    #[error("{0}")]
    Syntax(String),
    /// Larger than [`super::MAX_CONFIG_BYTES`].
    #[error("larger than 1 MiB")]
    TooLarge,
    /// A required field is absent.
    #[error("required")]
    Required,
    /// A number outside its range.
    #[error("must be {min}-{max}")]
    OutOfRange { min: u64, max: u64 },
    /// A value of the right type that is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A value given twice where it must be unique.
    #[error("{0}")]
    Duplicate(String),
    /// Two settings that exclude each other.
    #[error("{0}")]
    Conflict(&'static str),
    /// An inline JWKS that cannot be used.
    #[error("{0}")]
    Jwks(#[from] JwksError),
}

impl ConfigError {
    /// An error of `kind` at `field`.
    pub fn new(field: impl Into<String>, kind: ConfigErrorKind) -> ConfigError {
        ConfigError {
            field: field.into(),
            kind,
        }
    }

    /// An [`ConfigErrorKind::Invalid`] error at `field`: `message` says what is wrong.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::new(field, ConfigErrorKind::Invalid(message.into()))
    }
}

/// `Err` of `kind` at `field`.
pub(crate) fn fail<T>(field: impl Into<String>, kind: ConfigErrorKind) -> Result<T, ConfigError> {
    Err(ConfigError::new(field, kind))
}

/// `Err(Invalid(what))` at `field`.
pub(crate) fn invalid<T>(
    field: impl Into<String>,
    what: impl Into<String>,
) -> Result<T, ConfigError> {
    fail(field, ConfigErrorKind::Invalid(what.into()))
}

/// Checks that `value` lies in `min..=max`.
pub(crate) fn in_range(
    field: impl Into<String>,
    value: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        fail(field, ConfigErrorKind::OutOfRange { min, max })
    }
}
