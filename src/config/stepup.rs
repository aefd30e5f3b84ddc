//! The step-up options of a rule: `acr_values` and `max_age_s`, read from raw JSON values
//! so a value of the wrong type is refused naming its field.

use super::error::{typed, ConfigError};
use crate::stepup::StepUp;
use serde_json::Value;

/// A rule's step-up requirement (`acr_values`, `max_age_s`).
pub(super) fn step_up(
    acr_values: Option<Value>,
    max_age_s: Option<Value>,
    at: &str,
) -> Result<Option<StepUp>, ConfigError> {
    let acr = typed::<Vec<String>>(acr_values, &format!("{at}.acr_values"))?;
    let age = typed::<u64>(max_age_s, &format!("{at}.max_age_s"))?;
    StepUp::from_raw(acr, age, at)
}
