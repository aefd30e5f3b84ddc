//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the top-level `resource_metadata`
//! option, the JSON document jwt-guard serves for `GET`/`HEAD` on the well-known path (and
//! its path-suffixed form when `resource` has a path), and the document's URL, which every
//! 401 challenge carries as `resource_metadata` (§5.1). The URL is built from `resource`,
//! never from the request's `Host`.

use crate::alg::Algorithm;
use crate::config::error::ConfigError;
use crate::reject::Reply;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The well-known path segment of RFC 9728 §3.
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
/// Most entries in any list member.
const MAX_LIST: usize = 64;
/// Longest string member.
const MAX_TEXT: usize = 2048;

/// `resource_metadata` as written in the configuration.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawResourceMetadata {
    pub resource: Option<String>,
    pub authorization_servers: Option<Vec<String>>,
    pub scopes_supported: Option<Vec<String>>,
    pub bearer_methods_supported: Option<Vec<String>>,
    pub resource_name: Option<String>,
    pub resource_documentation: Option<String>,
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    pub dpop_bound_access_tokens_required: Option<bool>,
}

/// What the providers imply for the members left out.
#[derive(Debug, Clone, Default)]
pub struct Defaults<'a> {
    /// The providers' issuers (`authorization_servers`).
    pub issuers: Vec<&'a str>,
    /// Proof algorithms of the providers that accept DPoP; empty if none does.
    pub dpop_algorithms: Vec<Algorithm>,
    /// Whether every provider requires DPoP.
    pub dpop_required: bool,
}

/// The validated metadata: the document, where it is served, and its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    document: String,
    paths: Vec<String>,
    url: String,
}

fn field(name: &str) -> String {
    format!("resource_metadata.{name}")
}

/// An absolute `https` URL (or `http` on a loopback host) without fragment.
fn check_url(name: &str, url: &str, allow_query: bool) -> Result<(), ConfigError> {
    let bad = |why: &str| Err(ConfigError::invalid(field(name), why.to_string()));
    if url.len() > MAX_TEXT || url.chars().any(|c| c.is_control() || c == ' ' || c == '"') {
        return bad("must be a URL without spaces, quotes or control characters");
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return bad("must be an absolute https URL");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    if !(scheme == "https" || scheme == "http" && loopback) {
        return bad("must use https (http only on a loopback host)");
    }
    if authority.is_empty() || authority.contains('@') {
        return bad("must name a host, without user information");
    }
    if url.contains('#') || !allow_query && url.contains('?') {
        return bad("must not have a query or fragment");
    }
    Ok(())
}

fn strings(name: &str, values: Option<Vec<String>>) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(values) = values else {
        return Ok(None);
    };
    if values.len() > MAX_LIST {
        return Err(ConfigError::invalid(
            field(name),
            format!("at most {MAX_LIST} entries"),
        ));
    }
    if values.iter().any(|v| v.is_empty() || v.len() > MAX_TEXT) {
        return Err(ConfigError::invalid(
            field(name),
            "entries must be non-empty strings",
        ));
    }
    Ok(Some(values))
}

impl ResourceMetadata {
    /// Validates `resource_metadata`, filling omitted members from `defaults`.
    pub fn from_raw(
        raw: RawResourceMetadata,
        defaults: &Defaults<'_>,
    ) -> Result<ResourceMetadata, ConfigError> {
        let resource = raw
            .resource
            .ok_or_else(|| ConfigError::invalid(field("resource"), "required"))?;
        check_url("resource", &resource, false)?;
        let mut doc = Map::new();
        doc.insert("resource".into(), json!(resource));
        let servers = strings("authorization_servers", raw.authorization_servers)?
            .unwrap_or_else(|| defaults.issuers.iter().map(|s| s.to_string()).collect());
        for server in &servers {
            check_url("authorization_servers", server, false)?;
        }
        doc.insert("authorization_servers".into(), json!(servers));
        if let Some(scopes) = strings("scopes_supported", raw.scopes_supported)? {
            doc.insert("scopes_supported".into(), json!(scopes));
        }
        let methods = strings("bearer_methods_supported", raw.bearer_methods_supported)?
            .unwrap_or_else(|| vec!["header".into()]);
        if methods.iter().any(|m| m != "header") {
            return Err(ConfigError::invalid(
                field("bearer_methods_supported"),
                "jwt-guard reads tokens from the Authorization header only: [\"header\"]",
            ));
        }
        doc.insert("bearer_methods_supported".into(), json!(methods));
        if let Some(name) = raw.resource_name {
            if name.is_empty() || name.len() > MAX_TEXT {
                return Err(ConfigError::invalid(
                    field("resource_name"),
                    "must be a short string",
                ));
            }
            doc.insert("resource_name".into(), json!(name));
        }
        if let Some(url) = raw.resource_documentation {
            check_url("resource_documentation", &url, true)?;
            doc.insert("resource_documentation".into(), json!(url));
        }
        let algs = match strings(
            "dpop_signing_alg_values_supported",
            raw.dpop_signing_alg_values_supported,
        )? {
            Some(names) => {
                for name in &names {
                    if !defaults.dpop_algorithms.iter().any(|a| a.name() == name) {
                        return Err(ConfigError::invalid(
                            field("dpop_signing_alg_values_supported"),
                            format!("{name:?} is not a proof algorithm any provider accepts"),
                        ));
                    }
                }
                names
            }
            None => defaults
                .dpop_algorithms
                .iter()
                .map(|a| a.name().to_string())
                .collect(),
        };
        if !algs.is_empty() {
            doc.insert("dpop_signing_alg_values_supported".into(), json!(algs));
        }
        let required = raw
            .dpop_bound_access_tokens_required
            .unwrap_or(defaults.dpop_required);
        doc.insert("dpop_bound_access_tokens_required".into(), json!(required));
        let (origin, path) = split_resource(&resource);
        let mut paths = vec![WELL_KNOWN.to_string()];
        let url = if path.is_empty() || path == "/" {
            format!("{origin}{WELL_KNOWN}")
        } else {
            paths.push(format!("{WELL_KNOWN}{path}"));
            format!("{origin}{WELL_KNOWN}{path}")
        };
        Ok(ResourceMetadata {
            document: Value::Object(doc).to_string(),
            paths,
            url,
        })
    }

    /// The URL of the document, for `resource_metadata` in challenges.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The local reply for a request, if it asks for the document.
    pub fn answer(&self, method: &str, path: &str) -> Option<Reply> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        if !self.paths.iter().any(|p| p == path) {
            return None;
        }
        let headers = vec![
            ("content-type", "application/json".to_string()),
            ("cache-control", "public, max-age=3600".to_string()),
        ];
        match method {
            "GET" => Some(Reply {
                status: 200,
                headers,
                body: self.document.clone(),
            }),
            "HEAD" => Some(Reply {
                status: 200,
                headers,
                body: String::new(),
            }),
            _ => Some(Reply {
                status: 405,
                headers: vec![
                    ("allow", "GET, HEAD".to_string()),
                    ("content-type", "application/json".to_string()),
                ],
                body: json!({"error": "method_not_allowed"}).to_string(),
            }),
        }
    }
}

/// `https://host[:port]` and the path (without trailing slash) of a resource identifier.
fn split_resource(resource: &str) -> (&str, &str) {
    let after_scheme = resource.find("://").map_or(0, |i| i + 3);
    match resource.get(after_scheme..).and_then(|r| r.find('/')) {
        Some(i) => {
            let (origin, path) = resource.split_at(after_scheme + i);
            (origin, path.trim_end_matches('/'))
        }
        None => (resource, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str, defaults: &Defaults<'_>) -> Result<ResourceMetadata, ConfigError> {
        ResourceMetadata::from_raw(serde_json::from_str(json).unwrap(), defaults)
    }

    fn defaults() -> Defaults<'static> {
        Defaults {
            issuers: vec!["https://tenant.auth0.com/"],
            dpop_algorithms: vec![Algorithm::ES256],
            dpop_required: false,
        }
    }

    fn doc(m: &ResourceMetadata) -> Value {
        serde_json::from_str(&m.answer("GET", WELL_KNOWN).unwrap().body).unwrap()
    }

    #[test]
    fn defaults_come_from_the_providers() {
        let m = parse(r#"{"resource":"https://api.example.com"}"#, &defaults()).unwrap();
        assert_eq!(
            doc(&m),
            json!({"resource":"https://api.example.com",
                   "authorization_servers":["https://tenant.auth0.com/"],
                   "bearer_methods_supported":["header"],
                   "dpop_signing_alg_values_supported":["ES256"],
                   "dpop_bound_access_tokens_required":false})
        );
        assert_eq!(
            m.url(),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        let none = Defaults {
            dpop_algorithms: vec![],
            dpop_required: false,
            ..defaults()
        };
        let m = parse(r#"{"resource":"https://api.example.com"}"#, &none).unwrap();
        assert!(doc(&m).get("dpop_signing_alg_values_supported").is_none());
    }

    #[test]
    fn explicit_members_win() {
        let m = parse(
            r#"{"resource":"https://api.example.com/mcp","authorization_servers":["https://as.example.com"],
                "scopes_supported":["read","write"],"resource_name":"Orders API",
                "resource_documentation":"https://docs.example.com/api?v=1",
                "dpop_bound_access_tokens_required":true}"#,
            &defaults(),
        )
        .unwrap();
        let d: Value = serde_json::from_str(
            &m.answer("GET", "/.well-known/oauth-protected-resource/mcp")
                .unwrap()
                .body,
        )
        .unwrap();
        assert_eq!(
            d["authorization_servers"],
            json!(["https://as.example.com"])
        );
        assert_eq!(d["scopes_supported"], json!(["read", "write"]));
        assert_eq!(d["resource_name"], "Orders API");
        assert_eq!(d["dpop_bound_access_tokens_required"], true);
        assert_eq!(
            m.url(),
            "https://api.example.com/.well-known/oauth-protected-resource/mcp"
        );
    }

    #[test]
    fn served_on_the_well_known_paths_only() {
        let m = parse(r#"{"resource":"https://api.example.com/v1/"}"#, &defaults()).unwrap();
        assert!(m
            .answer("GET", "/.well-known/oauth-protected-resource")
            .is_some());
        assert!(m
            .answer("GET", "/.well-known/oauth-protected-resource/v1?x=1")
            .is_some());
        assert!(m
            .answer("GET", "/.well-known/oauth-protected-resource/v2")
            .is_none());
        assert!(m.answer("GET", "/v1").is_none());
        let head = m.answer("HEAD", WELL_KNOWN).unwrap();
        assert_eq!((head.status, head.body.as_str()), (200, ""));
        assert_eq!(m.answer("POST", WELL_KNOWN).unwrap().status, 405);
        assert_eq!(
            m.url(),
            "https://api.example.com/.well-known/oauth-protected-resource/v1"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let d = defaults();
        for (json, name) in [
            (r#"{}"#, "resource_metadata.resource"),
            (
                r#"{"resource":"api.example.com"}"#,
                "resource_metadata.resource",
            ),
            (
                r#"{"resource":"http://api.example.com"}"#,
                "resource_metadata.resource",
            ),
            (
                r#"{"resource":"https://api.example.com/#x"}"#,
                "resource_metadata.resource",
            ),
            (
                r#"{"resource":"https://api.example.com/?q"}"#,
                "resource_metadata.resource",
            ),
            (
                r#"{"resource":"https://u@api.example.com"}"#,
                "resource_metadata.resource",
            ),
            (
                r#"{"resource":"https://a","authorization_servers":["not a url"]}"#,
                "resource_metadata.authorization_servers",
            ),
            (
                r#"{"resource":"https://a","bearer_methods_supported":["query"]}"#,
                "resource_metadata.bearer_methods_supported",
            ),
            (
                r#"{"resource":"https://a","dpop_signing_alg_values_supported":["RS256"]}"#,
                "resource_metadata.dpop_signing_alg_values_supported",
            ),
            (
                r#"{"resource":"https://a","scopes_supported":[""]}"#,
                "resource_metadata.scopes_supported",
            ),
            (
                r#"{"resource":"https://a","resource_name":""}"#,
                "resource_metadata.resource_name",
            ),
        ] {
            assert_eq!(parse(json, &d).unwrap_err().field, name, "{json}");
        }
        assert!(serde_json::from_str::<RawResourceMetadata>(r#"{"resourse":"x"}"#).is_err());
        assert!(parse(r#"{"resource":"http://127.0.0.1:8080"}"#, &d).is_ok());
    }
}
