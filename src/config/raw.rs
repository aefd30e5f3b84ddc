//! The configuration JSON as written, before validation (unknown keys are refused).

use super::switches::{AmbiguousPaths, MethodOverride, Mode, SignatureBackend};
use crate::claims::RawClaimRule;
use crate::metadata::RawResourceMetadata;
use crate::sender::dpop::settings::DpopMode;
use crate::sources::config::RawTokenSource;
use serde::Deserialize;

#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub providers: Option<Vec<RawProvider>>,
    pub clock_skew_s: Option<u64>,
    pub max_token_bytes: Option<u64>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub forward_claims: serde_json::Map<String, serde_json::Value>,
    pub forward_payload_header: Option<String>,
    pub forward_provider_header: Option<String>,
    pub token_cache_size: Option<u64>,
    pub signature_backend: Option<SignatureBackend>,
    pub ambiguous_paths: Option<AmbiguousPaths>,
    pub method_override: Option<MethodOverride>,
    pub dpop_origin: Option<String>,
    pub dpop_proof_window_s: Option<u64>,
    pub dpop_nonce: Option<bool>,
    pub dpop_nonce_secrets_env: Option<String>,
    pub resource_metadata: Option<RawResourceMetadata>,
    pub token_sources: Option<Vec<RawTokenSource>>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvider {
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub issuers: Option<Vec<String>>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub discovery: bool,
    pub discovery_cluster: Option<String>,
    pub clients: Option<Vec<String>>,
    pub profile: Option<String>,
    pub jwks_uri: Option<String>,
    pub jwks_cluster: Option<String>,
    pub jwks: Option<String>,
    pub refresh_interval_s: Option<u64>,
    pub refetch_cooldown_s: Option<u64>,
    pub jwks_timeout_ms: Option<u64>,
    pub max_stale_s: Option<u64>,
    pub algorithms: Option<Vec<String>>,
    pub dpop: Option<DpopMode>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub path: Option<String>,
    pub prefix: Option<String>,
    pub path_separated_prefix: Option<String>,
    pub uri_template: Option<String>,
    pub hosts: Option<Vec<String>>,
    pub route_names: Option<Vec<String>>,
    pub name: Option<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub allow_anonymous: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub providers: Option<Vec<String>>,
    pub acr_values: Option<Vec<String>>,
    pub max_age_s: Option<u64>,
    #[serde(default)]
    pub claims: Vec<RawClaimRule>,
    #[serde(default)]
    pub mode: Mode,
}
