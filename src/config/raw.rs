//! The configuration JSON as written, before validation (unknown keys are refused).

use crate::claims::RawClaimRule;
use crate::sources::config::RawTokenSource;
use serde::Deserialize;

#[derive(Deserialize)]
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
    pub signature_backend: Option<String>,
    pub ambiguous_paths: Option<String>,
    pub method_override: Option<String>,
    pub dpop_origin: Option<serde_json::Value>,
    pub dpop_proof_window_s: Option<serde_json::Value>,
    pub dpop_nonce: Option<serde_json::Value>,
    pub dpop_nonce_secrets_env: Option<serde_json::Value>,
    pub resource_metadata: Option<serde_json::Value>,
    pub token_sources: Option<Vec<RawTokenSource>>,
}

#[derive(Deserialize)]
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
    pub dpop: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub prefix: Option<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub allow_anonymous: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub providers: Option<Vec<String>>,
    pub acr_values: Option<serde_json::Value>,
    pub max_age_s: Option<serde_json::Value>,
    #[serde(default)]
    pub claims: Vec<RawClaimRule>,
    pub mode: Option<String>,
}
