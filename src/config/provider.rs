//! One trusted issuer: its audiences, algorithms, where its keys come from and how often
//! they are fetched.

use super::error::{fail, in_range, invalid, ConfigError, ConfigErrorKind};
use super::raw::RawProvider;
use crate::alg::Algorithm;
use crate::discovery::Plan;
use crate::issuers;
use crate::jwks::{JwksError, KeySet};
use crate::profile::{self, Profile};

/// Default seconds between scheduled JWKS refreshes.
pub const DEFAULT_REFRESH_INTERVAL_S: u64 = 600;
/// Default minimum seconds between unknown-`kid` refetches.
pub const DEFAULT_REFETCH_COOLDOWN_S: u64 = 30;
/// Default JWKS callout timeout.
pub const DEFAULT_JWKS_TIMEOUT_MS: u64 = 5_000;
/// Default age of the last successful fetch after which keys are dropped.
pub const DEFAULT_MAX_STALE_S: u64 = 86_400;

/// One trusted issuer (an Auth0 tenant, for instance).
#[derive(Debug)]
pub struct Provider {
    pub name: String,
    /// The first of `issuers`: the one discovery asks, and shared records are named after.
    pub issuer: String,
    /// Every exact `iss` this provider's keys sign for (`issuer`, or the `issuers` list).
    pub issuers: Vec<String>,
    pub audiences: Vec<String>,
    /// Client ids accepted in `azp` / `client_id` (empty: any client).
    pub clients: Vec<String>,
    /// The token profile required (`any` or RFC 9068).
    pub profile: Profile,
    /// The `alg`s tokens of this issuer may use.
    pub algorithms: Vec<Algorithm>,
    /// Whether `algorithms` was written in the configuration (rather than defaulted):
    /// only then may a key published without `alg` serve more than its type's default.
    pub algorithms_listed: bool,
    pub keys: KeySource,
    pub refresh_interval_s: u64,
    pub refetch_cooldown_s: u64,
    pub jwks_timeout_ms: u64,
    /// Keys are dropped once the last successful fetch is older than this.
    pub max_stale_s: u64,
    /// Which `Authorization` schemes its tokens may use (`dpop`).
    pub dpop: crate::sender::dpop::settings::DpopMode,
}

/// Where a provider's keys come from.
#[derive(Debug)]
pub enum KeySource {
    /// Keys given inline in the configuration; never fetched.
    Inline(KeySet),
    /// Keys fetched over an HTTP callout through an Envoy cluster.
    Remote(RemoteJwks),
    /// Keys fetched from the `jwks_uri` of the issuer's discovery document.
    Discovered(Discovered),
}

/// A provider whose JWKS location comes from OIDC discovery (`discovery: true`).
#[derive(Debug, Clone)]
pub struct Discovered {
    /// Cluster for the JWKS callout.
    pub jwks_cluster: String,
    /// Cluster for the discovery documents (`discovery_cluster`, else `jwks_cluster`).
    pub discovery_cluster: String,
    /// The documents to fetch and the issuer they must name.
    pub plan: Plan,
}

/// The JWKS endpoint of a provider.
#[derive(Debug, Clone)]
pub struct RemoteJwks {
    pub cluster: String,
    pub uri: String,
    pub authority: String,
    pub path: String,
}

impl Provider {
    /// Parses a JWKS document of this provider under its algorithm policy.
    pub fn parse_keys(&self, body: &[u8]) -> Result<KeySet, JwksError> {
        parse_keys(body, &self.algorithms, self.algorithms_listed)
    }

    pub(super) fn from_raw(raw: RawProvider, at: &str) -> Result<Provider, ConfigError> {
        let name = match raw.name {
            Some(n) if valid_name(&n) => n,
            Some(_) => return invalid(format!("{at}.name"), "use 1-64 of [A-Za-z0-9_-]"),
            None => return fail(format!("{at}.name"), ConfigErrorKind::Required),
        };
        let at = format!("providers[{name}]");
        let issuers = issuers::from_raw(raw.issuer, raw.issuers, &at)?;
        let issuer = issuers.first().cloned().unwrap_or_default();
        let clients = profile::clients_from_raw(raw.clients, &at)?;
        let profile = Profile::parse(raw.profile.as_deref(), &at)?;
        if raw.audiences.is_empty() {
            return invalid(format!("{at}.audiences"), "must list at least one audience");
        }
        if raw.audiences.iter().any(|a| a.is_empty()) {
            return invalid(format!("{at}.audiences"), "empty audience");
        }
        let algorithms_listed = raw.algorithms.is_some();
        let algorithms = match raw.algorithms {
            None => Algorithm::ALL.to_vec(),
            Some(names) if names.is_empty() => {
                return invalid(format!("{at}.algorithms"), "must not be empty")
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
                        ConfigError::new(
                            format!("{at}.algorithms"),
                            ConfigErrorKind::Invalid(format!("{n:?} {why}")),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        if raw.discovery_cluster.is_some() && !raw.discovery {
            return invalid(
                format!("{at}.discovery_cluster"),
                "only with discovery: true",
            );
        }
        if raw.discovery {
            if raw.jwks_uri.is_some() {
                return fail(
                    format!("{at}.jwks_uri"),
                    ConfigErrorKind::Conflict("set either discovery or jwks_uri, not both"),
                );
            }
            if raw.jwks.is_some() {
                return fail(
                    format!("{at}.discovery"),
                    ConfigErrorKind::Conflict("inline jwks needs no discovery"),
                );
            }
            if issuers.len() != 1 {
                return invalid(
                    format!("{at}.discovery"),
                    "needs a single issuer (with issuers, give jwks_uri)",
                );
            }
        }
        let keys = match (raw.jwks, raw.jwks_cluster) {
            (Some(_), Some(_)) => {
                return fail(
                    format!("{at}.jwks"),
                    ConfigErrorKind::Conflict("set either jwks or jwks_cluster, not both"),
                )
            }
            (None, None) => {
                return invalid(
                    format!("{at}.jwks_cluster"),
                    "required unless inline jwks is given",
                )
            }
            (Some(text), None) => KeySource::Inline(
                parse_keys(text.as_bytes(), &algorithms, algorithms_listed)
                    .map_err(|e| ConfigError::new(format!("{at}.jwks"), e.into()))?,
            ),
            (None, Some(cluster)) if raw.discovery => {
                if cluster.is_empty() {
                    return invalid(format!("{at}.jwks_cluster"), "must not be empty");
                }
                let plan = Plan::new(&issuer).map_err(|why| {
                    ConfigError::new(
                        format!("{at}.issuer"),
                        ConfigErrorKind::Invalid(format!("for discovery, {why}")),
                    )
                })?;
                let discovery_cluster = match raw.discovery_cluster {
                    Some(c) if c.is_empty() => {
                        return invalid(format!("{at}.discovery_cluster"), "must not be empty")
                    }
                    Some(c) => c,
                    None => cluster.clone(),
                };
                KeySource::Discovered(Discovered {
                    jwks_cluster: cluster,
                    discovery_cluster,
                    plan,
                })
            }
            (None, Some(cluster)) => {
                if cluster.is_empty() {
                    return invalid(format!("{at}.jwks_cluster"), "must not be empty");
                }
                let uri = raw
                    .jwks_uri
                    .unwrap_or_else(|| format!("{issuer}.well-known/jwks.json"));
                let (authority, path) = split_uri(&uri).map_err(|why| {
                    ConfigError::new(
                        format!("{at}.jwks_uri"),
                        ConfigErrorKind::Invalid(why.into()),
                    )
                })?;
                KeySource::Remote(RemoteJwks {
                    cluster,
                    uri,
                    authority,
                    path,
                })
            }
        };
        let field = |f: &str| format!("{at}.{f}");
        let refresh_interval_s = in_range(
            field("refresh_interval_s"),
            raw.refresh_interval_s.unwrap_or(DEFAULT_REFRESH_INTERVAL_S),
            1,
            86_400,
        )?;
        let refetch_cooldown_s = in_range(
            field("refetch_cooldown_s"),
            raw.refetch_cooldown_s.unwrap_or(DEFAULT_REFETCH_COOLDOWN_S),
            0,
            86_400,
        )?;
        let jwks_timeout_ms = in_range(
            field("jwks_timeout_ms"),
            raw.jwks_timeout_ms.unwrap_or(DEFAULT_JWKS_TIMEOUT_MS),
            100,
            60_000,
        )?;
        let max_stale_s = in_range(
            field("max_stale_s"),
            raw.max_stale_s.unwrap_or(DEFAULT_MAX_STALE_S),
            1,
            2_592_000,
        )?;
        let dpop = raw.dpop.unwrap_or_default();
        Ok(Provider {
            name,
            issuer,
            issuers,
            audiences: raw.audiences,
            clients,
            profile,
            algorithms,
            algorithms_listed,
            keys,
            refresh_interval_s,
            refetch_cooldown_s,
            jwks_timeout_ms,
            max_stale_s,
            dpop,
        })
    }
}

fn parse_keys(body: &[u8], algorithms: &[Algorithm], listed: bool) -> Result<KeySet, JwksError> {
    if listed {
        KeySet::parse_listed(body, algorithms)
    } else {
        KeySet::parse(body, algorithms)
    }
}

pub(super) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Splits an absolute `http(s)://authority/path` URI into authority and path.
fn split_uri(uri: &str) -> Result<(String, String), &'static str> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains(['@', ' ', '?', '#']) {
        return Err("invalid host");
    }
    if path.contains([' ', '#']) || path.chars().any(char::is_control) {
        return Err("invalid path");
    }
    Ok((authority.to_string(), path.to_string()))
}
