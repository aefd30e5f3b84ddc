//! Plugin configuration: the JSON given to Envoy, validated into a [`Config`].
//! Every error names the offending field, so Envoy can refuse the plugin with a clear log.

pub(crate) mod choice;
#[cfg(test)]
mod documented;
pub mod error;
mod headers;
mod metadata;
mod offer;
mod provider;
mod raw;
mod rule;
mod switches;
#[cfg(test)]
mod tests;

pub use error::{ConfigError, ConfigErrorKind};
pub use headers::{spellings, MAX_SEPARATORS, METHOD_OVERRIDE_HEADERS};
pub use provider::{
    Discovered, KeySource, Provider, RemoteJwks, DEFAULT_JWKS_TIMEOUT_MS, DEFAULT_MAX_STALE_S,
    DEFAULT_REFETCH_COOLDOWN_S, DEFAULT_REFRESH_INTERVAL_S,
};
pub use rule::{Mode, Rule};
pub use switches::{AmbiguousPaths, MethodOverride, SignatureBackend};

use crate::issuers;
use crate::sender::dpop::settings::Settings;
use crate::sources::{self, TokenSource};
pub(crate) use error::{fail, in_range, invalid};
use raw::RawConfig;
use std::collections::HashSet;

/// Largest plugin configuration accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
/// Default leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_CLOCK_SKEW_S: u64 = 60;
/// Default bound on the token's length.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Default verified-token cache size, in entries per worker.
pub const DEFAULT_TOKEN_CACHE_SIZE: usize = 4096;

/// A validated plugin configuration.
#[derive(Debug)]
pub struct Config {
    pub providers: Vec<Provider>,
    pub clock_skew_s: u64,
    pub max_token_bytes: usize,
    pub rules: Vec<Rule>,
    /// The route facts the rules read (`hosts`, `route_names`, named rules).
    pub route_needs: crate::policy::matcher::RouteNeeds,
    pub forward_claims: Vec<(String, String)>,
    pub forward_payload_header: Option<String>,
    pub forward_provider_header: Option<String>,
    pub token_cache_size: usize,
    pub signature_backend: SignatureBackend,
    pub ambiguous_paths: AmbiguousPaths,
    pub method_override: MethodOverride,
    /// The top-level DPoP options.
    pub dpop: Settings,
    /// Protected-resource metadata (RFC 9728), served and named in every challenge.
    pub resource_metadata: Option<crate::metadata::ResourceMetadata>,
    /// What every 401 challenge offers (schemes, proof algorithms, metadata URL).
    pub offer: crate::reject::challenge::Offer,
    /// Where tokens are read from, in order (`token_sources`).
    pub token_sources: Vec<TokenSource>,
    /// Every spelling of every header the filter sets (or strips), lower case.
    managed: Vec<String>,
    /// Every spelling of the method-override headers read in `judge` mode.
    override_names: Vec<String>,
}

impl Config {
    /// Parses and validates the plugin configuration.
    pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return fail("configuration", ConfigErrorKind::TooLarge);
        }
        let raw = parse_raw(bytes)?;
        let raw_providers = match raw.providers {
            Some(p) if !p.is_empty() => p,
            _ => return invalid("providers", "at least one provider is required"),
        };
        let mut providers: Vec<Provider> = Vec::with_capacity(raw_providers.len());
        for (i, p) in raw_providers.into_iter().enumerate() {
            let provider = Provider::from_raw(p, &format!("providers[{i}]"))?;
            if providers.iter().any(|q| q.name == provider.name) {
                return fail(
                    format!("providers[{i}].name"),
                    ConfigErrorKind::Duplicate(format!(
                        "duplicate provider name {:?}",
                        provider.name
                    )),
                );
            }
            let earlier = providers.iter().map(|q| q.issuers.as_slice());
            if let Some(iss) = issuers::first_conflict(earlier, &provider.issuers) {
                let field = if provider.issuers.len() == 1 {
                    "issuer"
                } else {
                    "issuers"
                };
                return fail(
                    format!("providers[{i}].{field}"),
                    ConfigErrorKind::Duplicate(format!("issuer {iss:?} is configured twice")),
                );
            }
            providers.push(provider);
        }
        let rules = raw
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| Rule::from_raw(r, &format!("rules[{i}]"), &providers))
            .collect::<Result<Vec<_>, _>>()?;
        rule::unique_names(&rules)?;
        let route_needs = crate::policy::matcher::RouteNeeds::of(rules.iter().map(|r| &r.matchers));
        let mut set = HeaderSet::default();
        let mut forward_claims = Vec::with_capacity(raw.forward_claims.len());
        for (claim, header) in raw.forward_claims {
            let field = format!("forward_claims.{claim}");
            let Some(header) = header.as_str() else {
                return invalid(field, "header name must be a string");
            };
            let header = set.add(header, &field)?;
            forward_claims.push((claim, header));
        }
        let forward_payload_header = raw
            .forward_payload_header
            .map(|h| set.add(&h, "forward_payload_header"))
            .transpose()?;
        let forward_provider_header = raw
            .forward_provider_header
            .map(|h| set.add(&h, "forward_provider_header"))
            .transpose()?;
        let max_token_bytes = in_range(
            "max_token_bytes",
            raw.max_token_bytes
                .unwrap_or(DEFAULT_MAX_TOKEN_BYTES as u64),
            256,
            64 * 1024,
        )?;
        let clock_skew_s = in_range(
            "clock_skew_s",
            raw.clock_skew_s.unwrap_or(DEFAULT_CLOCK_SKEW_S),
            0,
            600,
        )?;
        let token_cache_size = in_range(
            "token_cache_size",
            raw.token_cache_size
                .unwrap_or(DEFAULT_TOKEN_CACHE_SIZE as u64),
            0,
            1_000_000,
        )?;
        let signature_backend = raw.signature_backend.unwrap_or_default();
        let ambiguous_paths = raw.ambiguous_paths.unwrap_or_default();
        let method_override = raw.method_override.unwrap_or_default();
        let dpop = Settings::from_raw(
            raw.dpop_origin.as_deref(),
            raw.dpop_proof_window_s,
            raw.dpop_nonce,
            raw.dpop_nonce_secrets_env,
        )?;
        let resource_metadata = metadata::metadata(raw.resource_metadata, &providers)?;
        let offer = offer::offer(&providers, resource_metadata.as_ref());
        let token_sources = sources::config::from_raw(raw.token_sources)?;
        for (i, source) in token_sources.iter().enumerate() {
            if let TokenSource::Header { name, .. } = source {
                if set.canonical.contains(&headers::canonical(name)) {
                    return invalid(
                        format!("token_sources[{i}].header"),
                        format!("{name:?} is a header jwt-guard sets (and strips from requests)"),
                    );
                }
            }
        }
        let override_names: Vec<String> = METHOD_OVERRIDE_HEADERS
            .iter()
            .flat_map(|h| spellings(h))
            .collect();
        let mut managed: Vec<String> = set.names.iter().flat_map(|h| spellings(h)).collect();
        if method_override == MethodOverride::Strip {
            managed.extend(override_names.iter().cloned());
        }
        Ok(Config {
            providers,
            clock_skew_s,
            max_token_bytes: usize::try_from(max_token_bytes).unwrap_or(DEFAULT_MAX_TOKEN_BYTES),
            rules,
            route_needs,
            forward_claims,
            forward_payload_header,
            forward_provider_header,
            token_cache_size: usize::try_from(token_cache_size).unwrap_or(DEFAULT_TOKEN_CACHE_SIZE),
            signature_backend,
            ambiguous_paths,
            method_override,
            dpop,
            resource_metadata,
            offer,
            token_sources,
            managed,
            override_names: match method_override {
                MethodOverride::Judge => override_names,
                MethodOverride::Strip => Vec::new(),
            },
        })
    }

    /// Every header name the host must remove from each inbound request, anonymous ones
    /// included: each header the filter sets, in every spelling an upstream may read as
    /// the same name (lower case; Envoy's look-ups ignore case), plus the method-override
    /// headers when `method_override` is `strip`.
    pub fn managed_headers(&self) -> impl Iterator<Item = &str> {
        self.managed.iter().map(String::as_str)
    }

    /// The method-override header names (every spelling) whose values the host passes in
    /// [`crate::authz::Request::method_overrides`]; empty in `strip` mode.
    pub fn method_override_headers(&self) -> impl Iterator<Item = &str> {
        self.override_names.iter().map(String::as_str)
    }

    /// Whether the lower-case header `name` is one of [`Config::method_override_headers`].
    pub fn is_method_override_header(&self, name: &str) -> bool {
        self.override_names.iter().any(|n| n == name)
    }

    /// The provider trusting `issuer` (one of its `issuers`), compared exactly.
    pub fn provider_for(&self, issuer: &str) -> Option<(usize, &Provider)> {
        self.providers
            .iter()
            .enumerate()
            .find(|(_, p)| p.issuers.iter().any(|i| i == issuer))
    }

    /// The request headers the token sources read, each once (lower case).
    pub fn token_headers(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::with_capacity(self.token_sources.len());
        for name in self.token_sources.iter().map(TokenSource::header_name) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Whether any rule has `claims` (then verified tokens keep what those need).
    pub fn has_claim_rules(&self) -> bool {
        self.rules.iter().any(|r| !r.claims.is_empty())
    }
}

/// The configuration JSON; a shape error (unknown key, wrong type) names the field it is in.
fn parse_raw(bytes: &[u8]) -> Result<RawConfig, ConfigError> {
    let syntax = |field: String, e: serde_json::Error| {
        ConfigError::new(field, ConfigErrorKind::Syntax(e.to_string()))
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw: RawConfig = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = match e.path().to_string() {
            p if p == "." => "configuration".to_string(),
            p => user_path(p, bytes),
        };
        syntax(field, e.into_inner())
    })?;
    de.end()
        .map_err(|e| syntax("configuration".to_string(), e))?;
    Ok(raw)
}

/// The field a shape error is reported at, as these fields have always been named: a
/// provider's `dpop` by the provider's name (as its validation errors are), anything inside
/// `resource_metadata` at `resource_metadata` (its validation names the member).
fn user_path(path: String, bytes: &[u8]) -> String {
    if path.starts_with("resource_metadata.") {
        return "resource_metadata".to_string();
    }
    let Some(index) = path
        .strip_prefix("providers[")
        .and_then(|p| p.strip_suffix("].dpop"))
    else {
        return path;
    };
    let name = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|doc| {
            let name = doc
                .get("providers")?
                .get(index.parse::<usize>().ok()?)?
                .get("name")?;
            name.as_str()
                .filter(|n| provider::valid_name(n))
                .map(str::to_string)
        });
    name.map_or(path, |name| format!("providers[{name}].dpop"))
}

/// The headers the filter sets, each once however it is spelled.
#[derive(Default)]
struct HeaderSet {
    names: Vec<String>,
    canonical: HashSet<String>,
}

impl HeaderSet {
    fn add(&mut self, name: &str, field: &str) -> Result<String, ConfigError> {
        let name = headers::header_name(name, field)?;
        if !self.canonical.insert(headers::canonical(&name)) {
            return fail(
                field,
                ConfigErrorKind::Duplicate(format!("header {name:?} is set twice")),
            );
        }
        self.names.push(name.clone());
        Ok(name)
    }
}
