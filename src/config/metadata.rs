//! The top-level `resource_metadata` option (RFC 9728), its omitted members derived from
//! the providers.

use super::error::ConfigError;
use super::offer::proof_algorithms;
use super::provider::Provider;
use crate::metadata::{Defaults, RawResourceMetadata, ResourceMetadata};
use crate::sender::dpop::settings::DpopMode;

/// `resource_metadata`, its omitted members derived from the providers.
pub(super) fn metadata(
    raw: Option<RawResourceMetadata>,
    providers: &[Provider],
) -> Result<Option<ResourceMetadata>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let defaults = Defaults {
        issuers: providers.iter().map(|p| p.issuer.as_str()).collect(),
        dpop_algorithms: proof_algorithms(providers),
        dpop_required: providers.iter().all(|p| p.dpop == DpopMode::Required),
    };
    Ok(Some(ResourceMetadata::from_raw(raw, &defaults)?))
}
