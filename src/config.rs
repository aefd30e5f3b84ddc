//! Plugin configuration: the JSON given to Envoy, validated into a [`Config`].
//! Every error names the offending field, so Envoy can refuse the plugin with a clear log.

use crate::alg::Algorithm;
use crate::jwks::KeySet;
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;

/// Largest plugin configuration accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

/// A validated plugin configuration.
#[derive(Debug)]
pub struct Config {
    pub providers: Vec<Provider>,
    pub clock_skew_s: u64,
    pub max_token_bytes: usize,
    pub rules: Vec<Rule>,
    pub forward_claims: Vec<(String, String)>,
    pub forward_payload_header: Option<String>,
    pub token_cache_size: usize,
    pub signature_backend: SignatureBackend,
}

/// Which implementation checks signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureBackend {
    /// The host where its start-up self-test passes, else jwt-simple.
    Auto,
    /// jwt-simple (pure Rust) only.
    JwtSimple,
    /// Envoy's BoringSSL for RS256/384/512 (required to pass its self-test).
    Host,
    /// Both, refusing any token they disagree on (differential testing).
    Both,
}

/// One trusted issuer (an Auth0 tenant, for instance).
#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    pub algorithms: Vec<Algorithm>,
    pub keys: KeySource,
    pub refresh_interval_s: u64,
    pub refetch_cooldown_s: u64,
    pub jwks_timeout_ms: u64,
}

/// Where a provider's keys come from.
#[derive(Debug)]
pub enum KeySource {
    /// Keys given inline in the configuration; never fetched.
    Inline(KeySet),
    /// Keys fetched over an HTTP callout through an Envoy cluster.
    Remote(RemoteJwks),
}

/// The JWKS endpoint of a provider.
#[derive(Debug, Clone)]
pub struct RemoteJwks {
    pub cluster: String,
    pub uri: String,
    pub authority: String,
    pub path: String,
}

/// A route rule: the first rule whose prefix and method match a request applies.
#[derive(Debug, Clone)]
pub struct Rule {
    pub prefix: String,
    pub methods: Vec<String>,
    pub allow_anonymous: bool,
    pub scopes: Vec<String>,
}

/// A configuration error; its text names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid jwt-guard configuration: {}", self.0)
    }
}

fn err<T>(field: &str, what: impl fmt::Display) -> Result<T, ConfigError> {
    Err(ConfigError(format!("{field}: {what}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    providers: Option<Vec<RawProvider>>,
    clock_skew_s: Option<u64>,
    max_token_bytes: Option<usize>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    forward_claims: serde_json::Map<String, serde_json::Value>,
    forward_payload_header: Option<String>,
    token_cache_size: Option<usize>,
    signature_backend: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: Option<String>,
    issuer: Option<String>,
    #[serde(default)]
    audiences: Vec<String>,
    jwks_uri: Option<String>,
    jwks_cluster: Option<String>,
    jwks: Option<String>,
    refresh_interval_s: Option<u64>,
    refetch_cooldown_s: Option<u64>,
    jwks_timeout_ms: Option<u64>,
    algorithms: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    prefix: Option<String>,
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default)]
    allow_anonymous: bool,
    #[serde(default)]
    scopes: Vec<String>,
}

/// Default seconds between scheduled JWKS refreshes.
pub const DEFAULT_REFRESH_INTERVAL_S: u64 = 600;
/// Default minimum seconds between unknown-`kid` refetches.
pub const DEFAULT_REFETCH_COOLDOWN_S: u64 = 30;
/// Default JWKS callout timeout.
pub const DEFAULT_JWKS_TIMEOUT_MS: u64 = 5_000;
/// Default leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_CLOCK_SKEW_S: u64 = 60;
/// Default bound on the token's length.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Default verified-token cache size, in entries per worker.
pub const DEFAULT_TOKEN_CACHE_SIZE: usize = 4096;

/// Headers a claim may never be forwarded into.
const RESERVED_HEADERS: [&str; 8] = [
    "authorization",
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
    "cookie",
];

impl Config {
    /// Parses and validates the plugin configuration.
    pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return err("configuration", "larger than 1 MiB");
        }
        let raw: RawConfig = serde_json::from_slice(bytes)
            .map_err(|e| ConfigError(format!("configuration: {e}")))?;
        let raw_providers = match raw.providers {
            Some(p) if !p.is_empty() => p,
            _ => return err("providers", "at least one provider is required"),
        };
        let mut providers = Vec::with_capacity(raw_providers.len());
        for (i, p) in raw_providers.into_iter().enumerate() {
            let provider = Provider::from_raw(p, &format!("providers[{i}]"))?;
            if providers.iter().any(|q: &Provider| q.name == provider.name) {
                return err(
                    &format!("providers[{i}].name"),
                    format_args!("duplicate provider name {:?}", provider.name),
                );
            }
            if providers
                .iter()
                .any(|q: &Provider| q.issuer == provider.issuer)
            {
                return err(
                    &format!("providers[{i}].issuer"),
                    format_args!("issuer {:?} is configured twice", provider.issuer),
                );
            }
            providers.push(provider);
        }
        let rules = raw
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| Rule::from_raw(r, &format!("rules[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut forward_claims = Vec::with_capacity(raw.forward_claims.len());
        let mut headers_set = HashSet::new();
        for (claim, header) in raw.forward_claims {
            let field = format!("forward_claims.{claim}");
            let Some(header) = header.as_str() else {
                return err(&field, "header name must be a string");
            };
            let header = header_name(header, &field)?;
            if !headers_set.insert(header.clone()) {
                return err(&field, format_args!("header {header:?} is set twice"));
            }
            forward_claims.push((claim, header));
        }
        let forward_payload_header = match raw.forward_payload_header {
            Some(h) => {
                let h = header_name(&h, "forward_payload_header")?;
                if !headers_set.insert(h.clone()) {
                    return err("forward_payload_header", "also used in forward_claims");
                }
                Some(h)
            }
            None => None,
        };
        let max_token_bytes = raw.max_token_bytes.unwrap_or(DEFAULT_MAX_TOKEN_BYTES);
        if !(256..=64 * 1024).contains(&max_token_bytes) {
            return err("max_token_bytes", "must be between 256 and 65536");
        }
        let clock_skew_s = raw.clock_skew_s.unwrap_or(DEFAULT_CLOCK_SKEW_S);
        if clock_skew_s > 600 {
            return err("clock_skew_s", "must be at most 600");
        }
        let token_cache_size = raw.token_cache_size.unwrap_or(DEFAULT_TOKEN_CACHE_SIZE);
        if token_cache_size > 1_000_000 {
            return err("token_cache_size", "must be at most 1000000");
        }
        let signature_backend = match raw.signature_backend.as_deref() {
            None | Some("auto") => SignatureBackend::Auto,
            Some("jwt-simple") => SignatureBackend::JwtSimple,
            Some("host") => SignatureBackend::Host,
            Some("both") => SignatureBackend::Both,
            Some(other) => {
                return err(
                    "signature_backend",
                    format_args!("{other:?} is not one of auto, jwt-simple, host, both"),
                )
            }
        };
        Ok(Config {
            providers,
            clock_skew_s,
            max_token_bytes,
            rules,
            forward_claims,
            forward_payload_header,
            token_cache_size,
            signature_backend,
        })
    }

    /// Every header name the filter sets on requests (stripped from inbound requests).
    pub fn managed_headers(&self) -> impl Iterator<Item = &str> {
        self.forward_claims
            .iter()
            .map(|(_, h)| h.as_str())
            .chain(self.forward_payload_header.as_deref())
    }

    /// The provider trusting `issuer`, compared exactly.
    pub fn provider_for(&self, issuer: &str) -> Option<(usize, &Provider)> {
        self.providers
            .iter()
            .enumerate()
            .find(|(_, p)| p.issuer == issuer)
    }
}

impl Provider {
    fn from_raw(raw: RawProvider, at: &str) -> Result<Provider, ConfigError> {
        let name = match raw.name {
            Some(n) if valid_name(&n) => n,
            Some(_) => return err(&format!("{at}.name"), "use 1-64 of [A-Za-z0-9_-]"),
            None => return err(&format!("{at}.name"), "required"),
        };
        let at = format!("providers[{name}]");
        let issuer = match raw.issuer {
            Some(i) if !i.is_empty() && i.len() <= 512 => i,
            Some(_) => return err(&format!("{at}.issuer"), "must be 1-512 characters"),
            None => return err(&format!("{at}.issuer"), "required"),
        };
        if raw.audiences.is_empty() {
            return err(
                &format!("{at}.audiences"),
                "must list at least one audience",
            );
        }
        if raw.audiences.iter().any(|a| a.is_empty()) {
            return err(&format!("{at}.audiences"), "empty audience");
        }
        let algorithms = match raw.algorithms {
            None => Algorithm::ALL.to_vec(),
            Some(names) if names.is_empty() => {
                return err(&format!("{at}.algorithms"), "must not be empty")
            }
            Some(names) => names
                .iter()
                .map(|n| {
                    Algorithm::parse(n).ok_or_else(|| {
                        let why = if n.starts_with("HS") || n.eq_ignore_ascii_case("none") {
                            "is never accepted (symmetric or unsigned)"
                        } else {
                            "is not a supported asymmetric JWS algorithm"
                        };
                        ConfigError(format!("{at}.algorithms: {n:?} {why}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let keys = match (raw.jwks, raw.jwks_cluster) {
            (Some(_), Some(_)) => {
                return err(
                    &format!("{at}.jwks"),
                    "set either jwks or jwks_cluster, not both",
                )
            }
            (None, None) => {
                return err(
                    &format!("{at}.jwks_cluster"),
                    "required unless inline jwks is given",
                )
            }
            (Some(text), None) => {
                let set = KeySet::parse(text.as_bytes(), &algorithms)
                    .map_err(|e| ConfigError(format!("{at}.jwks: {e}")))?;
                KeySource::Inline(set)
            }
            (None, Some(cluster)) => {
                if cluster.is_empty() {
                    return err(&format!("{at}.jwks_cluster"), "must not be empty");
                }
                let uri = raw
                    .jwks_uri
                    .unwrap_or_else(|| format!("{issuer}.well-known/jwks.json"));
                let (authority, path) =
                    split_uri(&uri).map_err(|e| ConfigError(format!("{at}.jwks_uri: {e}")))?;
                KeySource::Remote(RemoteJwks {
                    cluster,
                    uri,
                    authority,
                    path,
                })
            }
        };
        let refresh_interval_s = raw.refresh_interval_s.unwrap_or(DEFAULT_REFRESH_INTERVAL_S);
        if !(1..=86_400).contains(&refresh_interval_s) {
            return err(&format!("{at}.refresh_interval_s"), "must be 1-86400");
        }
        let refetch_cooldown_s = raw.refetch_cooldown_s.unwrap_or(DEFAULT_REFETCH_COOLDOWN_S);
        if refetch_cooldown_s > 86_400 {
            return err(&format!("{at}.refetch_cooldown_s"), "must be at most 86400");
        }
        let jwks_timeout_ms = raw.jwks_timeout_ms.unwrap_or(DEFAULT_JWKS_TIMEOUT_MS);
        if !(100..=60_000).contains(&jwks_timeout_ms) {
            return err(&format!("{at}.jwks_timeout_ms"), "must be 100-60000");
        }
        Ok(Provider {
            name,
            issuer,
            audiences: raw.audiences,
            algorithms,
            keys,
            refresh_interval_s,
            refetch_cooldown_s,
            jwks_timeout_ms,
        })
    }
}

impl Rule {
    fn from_raw(raw: RawRule, at: &str) -> Result<Rule, ConfigError> {
        let prefix = match raw.prefix {
            Some(p) if p.starts_with('/') => p,
            Some(_) => return err(&format!("{at}.prefix"), "must start with '/'"),
            None => return err(&format!("{at}.prefix"), "required"),
        };
        for m in &raw.methods {
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
                return err(
                    &format!("{at}.methods"),
                    format_args!("{m:?} is not an upper-case HTTP method"),
                );
            }
        }
        for s in &raw.scopes {
            if s.is_empty() || s.contains([' ', '"', '\\']) || s.chars().any(char::is_control) {
                return err(&format!("{at}.scopes"), format_args!("invalid scope {s:?}"));
            }
        }
        if raw.allow_anonymous && !raw.scopes.is_empty() {
            return err(
                &format!("{at}.scopes"),
                "an anonymous route cannot require scopes",
            );
        }
        Ok(Rule {
            prefix,
            methods: raw.methods,
            allow_anonymous: raw.allow_anonymous,
            scopes: raw.scopes,
        })
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn header_name(name: &str, field: &str) -> Result<String, ConfigError> {
    let lower = name.to_ascii_lowercase();
    let token = !lower.is_empty()
        && lower.len() <= 128
        && lower
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !token {
        return err(field, format_args!("{name:?} is not a valid header name"));
    }
    if RESERVED_HEADERS.contains(&lower.as_str()) {
        return err(field, format_args!("{name:?} is reserved"));
    }
    Ok(lower)
}

/// Splits an absolute `http(s)://authority/path` URI into authority and path.
fn split_uri(uri: &str) -> Result<(String, String), String> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains(['@', ' ', '?', '#']) {
        return Err("invalid host".into());
    }
    if path.contains([' ', '#']) || path.chars().any(char::is_control) {
        return Err("invalid path".into());
    }
    Ok((authority.to_string(), path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Config, ConfigError> {
        Config::parse(json.as_bytes())
    }

    const MINIMAL: &str = r#"{"providers":[{"name":"prod","issuer":"https://t.eu.auth0.com/",
        "audiences":["https://api.example.com"],"jwks_cluster":"tenant"}]}"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.clock_skew_s, 60);
        assert_eq!(c.max_token_bytes, 8192);
        assert!(c.rules.is_empty());
        let p = &c.providers[0];
        assert_eq!(p.refresh_interval_s, 600);
        assert_eq!(p.refetch_cooldown_s, 30);
        assert_eq!(p.algorithms, Algorithm::ALL.to_vec());
        match &p.keys {
            KeySource::Remote(r) => {
                assert_eq!(r.uri, "https://t.eu.auth0.com/.well-known/jwks.json");
                assert_eq!(r.authority, "t.eu.auth0.com");
                assert_eq!(r.path, "/.well-known/jwks.json");
                assert_eq!(r.cluster, "tenant");
            }
            KeySource::Inline(_) => panic!("expected remote"),
        }
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            r#"{"providers":[{"name":"prod","issuer":"https://t/","audiences":["a","b"],
              "jwks_uri":"http://127.0.0.1:9000/keys?x=1","jwks_cluster":"c","refresh_interval_s":5,
              "refetch_cooldown_s":0,"algorithms":["RS256","ES256"]}],
              "clock_skew_s":0,"rules":[{"prefix":"/healthz","allow_anonymous":true},
              {"prefix":"/admin","methods":["POST"],"scopes":["write:admin"]}],
              "forward_claims":{"sub":"X-Jwt-Sub"},"forward_payload_header":"x-jwt-payload",
              "token_cache_size":0}"#,
        )
        .unwrap();
        assert_eq!(c.forward_claims, vec![("sub".into(), "x-jwt-sub".into())]);
        assert_eq!(c.rules[1].scopes, vec!["write:admin".to_string()]);
        assert_eq!(c.token_cache_size, 0);
        assert_eq!(c.signature_backend, SignatureBackend::Auto);
        assert_eq!(
            c.managed_headers().collect::<Vec<_>>(),
            ["x-jwt-sub", "x-jwt-payload"]
        );
        assert!(c.provider_for("https://t/").is_some());
        assert!(c.provider_for("https://t").is_none());
    }

    fn error_of(json: &str) -> String {
        parse(json).unwrap_err().0
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("not json", "configuration"),
            (r#"{"providers":[]}"#, "providers"),
            (
                r#"{"providers":[{"issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}]}"#,
                "providers[0].name",
            ),
            (
                r#"{"providers":[{"name":"p","audiences":["a"],"jwks_cluster":"c"}]}"#,
                "providers[p].issuer",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":[],"jwks_cluster":"c"}]}"#,
                "providers[p].audiences",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"]}]}"#,
                "providers[p].jwks_cluster",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","algorithms":["HS256"]}]}"#,
                "providers[p].algorithms",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","algorithms":["none"]}]}"#,
                "never accepted",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","algorithms":["XX"]}]}"#,
                "not a supported",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","jwks_uri":"ftp://x"}]}"#,
                "providers[p].jwks_uri",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks":"{\"keys\":[]}"}]}"#,
                "providers[p].jwks",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","audience":"x"}]}"#,
                "unknown field `audience`",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"},{"name":"p","issuer":"https://j/","audiences":["a"],"jwks_cluster":"c"}]}"#,
                "providers[1].name",
            ),
            (
                r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"},{"name":"q","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}]}"#,
                "providers[1].issuer",
            ),
        ];
        for (json, field) in cases {
            let e = error_of(json);
            assert!(e.contains(field), "{json} -> {e}");
        }
    }

    #[test]
    fn rejects_bad_rules_and_headers() {
        let with = |extra: &str| {
            error_of(&format!(
                r#"{{"providers":[{{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}}],{extra}}}"#
            ))
        };
        assert!(with(r#""rules":[{"prefix":"api"}]"#).contains("rules[0].prefix"));
        assert!(with(r#""rules":[{"prefix":"/a","methods":["get"]}]"#).contains("rules[0].methods"));
        assert!(
            with(r#""rules":[{"prefix":"/a","allow_anonymous":true,"scopes":["x"]}]"#)
                .contains("rules[0].scopes")
        );
        assert!(with(r#""rules":[{"prefix":"/a","scopes":["a b"]}]"#).contains("rules[0].scopes"));
        assert!(with(r#""forward_claims":{"sub":"bad header"}"#).contains("forward_claims.sub"));
        assert!(with(r#""forward_claims":{"sub":"Authorization"}"#).contains("reserved"));
        assert!(with(r#""forward_claims":{"sub":"x-a","azp":"X-A"}"#).contains("set twice"));
        assert!(with(r#""forward_payload_header":":path""#).contains("forward_payload_header"));
        assert!(with(r#""max_token_bytes":10"#).contains("max_token_bytes"));
        assert!(with(r#""clock_skew_s":-1"#).contains("configuration"));
        assert!(with(r#""signature_backend":"openssl""#).contains("signature_backend"));
    }

    #[test]
    fn refuses_oversized_config() {
        let big = vec![b' '; MAX_CONFIG_BYTES + 1];
        assert!(Config::parse(&big).unwrap_err().0.contains("1 MiB"));
    }
}
