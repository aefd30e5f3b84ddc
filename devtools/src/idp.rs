//! `dev-idp`: a development identity provider that answers like an Auth0 tenant for
//! the machine-to-machine (client-credentials) flow, so jwt-guard can be tried without
//! a real tenant. It signs RS256 access tokens with Auth0's claim shape and serves
//! OIDC discovery and the JWKS; `POST /rotate` switches to a new signing key while
//! the JWKS keeps the previous one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};

use jwt_simple::prelude::*;
use serde_json::{json, Map, Value};

use crate::cli::{split_list, Flags};
use crate::http::{Request, Response};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
pub const DEFAULT_AUDIENCE: &str = "https://api.example.com";
pub const DEFAULT_CLIENT_ID: &str = "demo-client";
pub const DEFAULT_CLIENT_SECRET: &str = "demo-secret";
pub const DEFAULT_SCOPES: &str = "read:data write:admin";
pub const DEFAULT_TOKEN_TTL_S: u64 = 3600;

/// The flags `dev-idp` accepts.
pub const FLAGS: &[&str] = &[
    "listen",
    "issuer",
    "audience",
    "client-id",
    "client-secret",
    "allowed-scopes",
    "token-ttl-s",
];

pub const USAGE: &str = "\
dev-idp: a local identity provider that behaves like an Auth0 tenant (client credentials)

Usage: dev-idp [FLAGS]
  --listen ADDR           address to listen on (default 127.0.0.1:9000)
  --issuer URL            iss of the tokens (default http://ADDR/, with a trailing slash)
  --audience ID           an API identifier tokens can be asked for; repeatable
                          (default https://api.example.com)
  --client-id ID          the one client that may ask for tokens (default demo-client)
  --client-secret SECRET  its secret (default demo-secret)
  --allowed-scopes LIST   scopes granted to the client, space or comma separated
                          (default \"read:data write:admin\")
  --token-ttl-s N         token lifetime in seconds (default 3600)

Endpoints:
  GET  /.well-known/openid-configuration   OIDC discovery
  GET  /.well-known/jwks.json              public keys (current, and previous after a rotation)
  POST /oauth/token                        client-credentials grant (form or JSON body)
  POST /rotate                             switch to a new signing key, keep the old one in the JWKS
";

/// What the provider issues and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpConfig {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub allowed_scopes: Vec<String>,
    pub token_ttl_s: u64,
}

impl IdpConfig {
    /// Builds the configuration from the flags; `local` is the address actually bound,
    /// from which the default issuer is made.
    pub fn from_flags(flags: &Flags, local: SocketAddr) -> Result<Self, String> {
        let issuer = match flags.last("issuer") {
            Some(issuer) => issuer.to_string(),
            None => default_issuer(local),
        };
        if !(issuer.starts_with("http://") || issuer.starts_with("https://")) {
            return Err(format!("--issuer must be an http(s) URL, got {issuer:?}"));
        }
        let mut audiences: Vec<String> = flags
            .all("audience")
            .into_iter()
            .map(str::to_string)
            .collect();
        if audiences.is_empty() {
            audiences.push(DEFAULT_AUDIENCE.to_string());
        }
        if audiences.iter().any(String::is_empty) {
            return Err("--audience must not be empty".to_string());
        }
        let client_id = flags.last("client-id").unwrap_or(DEFAULT_CLIENT_ID);
        let client_secret = flags.last("client-secret").unwrap_or(DEFAULT_CLIENT_SECRET);
        if client_id.is_empty() || client_secret.is_empty() {
            return Err("--client-id and --client-secret must not be empty".to_string());
        }
        let allowed_scopes = split_list(flags.last("allowed-scopes").unwrap_or(DEFAULT_SCOPES));
        let token_ttl_s = match flags.last("token-ttl-s") {
            None => DEFAULT_TOKEN_TTL_S,
            Some(text) => match text.parse::<u64>() {
                Ok(ttl) if (1..=u64::from(u32::MAX)).contains(&ttl) => ttl,
                _ => {
                    return Err(format!(
                        "--token-ttl-s must be a positive number, got {text:?}"
                    ))
                }
            },
        };
        Ok(IdpConfig {
            issuer,
            audiences,
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            allowed_scopes,
            token_ttl_s,
        })
    }

    /// The issuer as a base URL ending in exactly one `/`, for building endpoint URLs.
    fn base_url(&self) -> String {
        format!("{}/", self.issuer.trim_end_matches('/'))
    }
}

/// `http://HOST:PORT/` for the bound address; a wildcard address becomes loopback.
pub fn default_issuer(local: SocketAddr) -> String {
    let mut addr = local;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    format!("http://{addr}/")
}

/// A new RSA-2048 signing key whose `kid` is its RFC 7638 thumbprint.
pub fn new_signing_key() -> Result<RS256KeyPair, String> {
    let key =
        RS256KeyPair::generate(2048).map_err(|err| format!("cannot generate an RSA key: {err}"))?;
    let kid = key.jwk_thumbprint();
    Ok(key.with_key_id(&kid))
}

/// The claims Auth0 adds to a client-credentials access token besides the registered ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth0Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub gty: String,
    pub azp: String,
}

/// An OAuth error answer (`{"error": ..., "error_description": ...}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn response(&self) -> Response {
        Response::json(
            self.status,
            &json!({"error": self.error, "error_description": self.description}),
        )
        .header("Cache-Control", "no-store")
    }
}

/// The parameters of a token request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
}

impl TokenRequest {
    fn set(&mut self, name: &str, value: String) -> Result<(), OAuthError> {
        let slot = match name {
            "grant_type" => &mut self.grant_type,
            "client_id" => &mut self.client_id,
            "client_secret" => &mut self.client_secret,
            "audience" => &mut self.audience,
            "scope" => &mut self.scope,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(OAuthError::new(
                400,
                "invalid_request",
                format!("Parameter given more than once: {name}"),
            ));
        }
        *slot = Some(value);
        Ok(())
    }

    /// Reads the parameters from a form-encoded (the default) or JSON body.
    pub fn from_request(request: &Request) -> Result<Self, OAuthError> {
        let media_type = request
            .header("content-type")
            .unwrap_or("application/x-www-form-urlencoded")
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let mut params = TokenRequest::default();
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => {
                for (name, value) in parse_form(&request.body)? {
                    params.set(&name, value)?;
                }
            }
            "application/json" => {
                let body: Value = serde_json::from_slice(&request.body).map_err(|_| {
                    OAuthError::new(400, "invalid_request", "Request body is not valid JSON")
                })?;
                let Value::Object(fields) = body else {
                    return Err(OAuthError::new(
                        400,
                        "invalid_request",
                        "Request body must be a JSON object",
                    ));
                };
                for (name, value) in fields {
                    match value {
                        Value::String(text) => params.set(&name, text)?,
                        Value::Null => {}
                        _ => {
                            return Err(OAuthError::new(
                                400,
                                "invalid_request",
                                format!("Parameter must be a string: {name}"),
                            ))
                        }
                    }
                }
            }
            other => {
                return Err(OAuthError::new(
                    400,
                    "invalid_request",
                    format!("Unsupported content type: {other}"),
                ))
            }
        }
        Ok(params)
    }
}

/// Decodes an `application/x-www-form-urlencoded` body.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let bad = || OAuthError::new(400, "invalid_request", "Malformed form body");
    let text = std::str::from_utf8(body).map_err(|_| bad())?;
    let mut pairs = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name).ok_or_else(bad)?;
        let value = percent_decode(value).ok_or_else(bad)?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn percent_decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let high = hex_value(bytes.next()?)?;
                let low = hex_value(bytes.next()?)?;
                out.push(high.checked_mul(16)?.checked_add(low)?);
            }
            _ => out.push(byte),
        }
    }
    String::from_utf8(out).ok()
}

/// What a successful token request returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub access_token: String,
    pub scope: String,
    pub expires_in: u64,
    pub kid: String,
}

impl Grant {
    pub fn response(&self) -> Response {
        let mut body = Map::new();
        body.insert("access_token".into(), json!(self.access_token));
        if !self.scope.is_empty() {
            body.insert("scope".into(), json!(self.scope));
        }
        body.insert("expires_in".into(), json!(self.expires_in));
        body.insert("token_type".into(), json!("Bearer"));
        Response::json(200, &Value::Object(body))
            .header("Cache-Control", "no-store")
            .header("Pragma", "no-cache")
    }
}

struct KeyRing {
    current: RS256KeyPair,
    previous: Option<RS256PublicKey>,
}

fn kid_of(key: &RS256KeyPair) -> String {
    key.key_id().clone().unwrap_or_default()
}

/// The provider: its configuration and its signing keys.
pub struct Idp {
    config: IdpConfig,
    keys: Mutex<KeyRing>,
}

impl Idp {
    pub fn new(config: IdpConfig, signing_key: RS256KeyPair) -> Self {
        Idp {
            config,
            keys: Mutex::new(KeyRing {
                current: signing_key,
                previous: None,
            }),
        }
    }

    pub fn config(&self) -> &IdpConfig {
        &self.config
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, KeyRing> {
        // The ring is replaced whole under the lock, so a poisoned lock still holds a
        // consistent value.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The `kid` tokens are signed with now.
    pub fn current_kid(&self) -> String {
        kid_of(&self.keys().current)
    }

    /// Makes `new_key` the signing key; the JWKS keeps the key it replaces (only that one).
    /// Returns the new and the previous `kid`.
    pub fn rotate(&self, new_key: RS256KeyPair) -> (String, String) {
        let mut ring = self.keys();
        let old = std::mem::replace(&mut ring.current, new_key);
        ring.previous = Some(old.public_key());
        (kid_of(&ring.current), kid_of(&old))
    }

    /// The public keys as a JWKS document, the signing key first.
    pub fn jwks(&self) -> Value {
        let ring = self.keys();
        let mut keys = vec![ring.current.public_key().to_jwk()];
        if let Some(previous) = &ring.previous {
            keys.push(previous.to_jwk());
        }
        let keys: Vec<Value> = keys
            .iter()
            .filter_map(|jwk| serde_json::from_str(jwk).ok())
            .collect();
        json!({ "keys": keys })
    }

    /// The OIDC discovery document.
    pub fn discovery(&self) -> Value {
        let base = self.config.base_url();
        json!({
            "issuer": self.config.issuer,
            "token_endpoint": format!("{base}oauth/token"),
            "jwks_uri": format!("{base}.well-known/jwks.json"),
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "scopes_supported": self.config.allowed_scopes,
            "claims_supported": ["iss", "sub", "aud", "iat", "exp", "scope", "gty", "azp"],
        })
    }

    /// Signs an access token for the configured client, as Auth0 shapes it for the
    /// client-credentials grant; `now` is in seconds since the Unix epoch.
    pub fn mint(&self, audience: &str, scope: &str, now: u64) -> Result<String, String> {
        let client_id = &self.config.client_id;
        let claims = JWTClaims {
            issued_at: Some(Duration::from_secs(now)),
            expires_at: Some(Duration::from_secs(
                now.saturating_add(self.config.token_ttl_s),
            )),
            invalid_before: None,
            issuer: Some(self.config.issuer.clone()),
            subject: Some(format!("{client_id}@clients")),
            audiences: Some(Audiences::AsString(audience.to_string())),
            jwt_id: None,
            nonce: None,
            custom: Auth0Claims {
                scope: (!scope.is_empty()).then(|| scope.to_string()),
                gty: "client-credentials".to_string(),
                azp: client_id.clone(),
            },
        };
        self.keys()
            .current
            .sign(claims)
            .map_err(|err| format!("cannot sign a token: {err}"))
    }

    /// Checks a token request the way Auth0 does and issues the token.
    pub fn grant(&self, request: &TokenRequest, now: u64) -> Result<Grant, OAuthError> {
        let config = &self.config;
        match request.grant_type.as_deref() {
            None => {
                return Err(OAuthError::new(
                    400,
                    "invalid_request",
                    "Missing required parameter: grant_type",
                ))
            }
            Some("client_credentials") => {}
            Some(other) => {
                return Err(OAuthError::new(
                    400,
                    "unsupported_grant_type",
                    format!("Unsupported grant type: {other}"),
                ))
            }
        }
        if request.client_id.as_deref() != Some(config.client_id.as_str())
            || request.client_secret.as_deref() != Some(config.client_secret.as_str())
        {
            return Err(OAuthError::new(401, "access_denied", "Unauthorized"));
        }
        let audience = match request.audience.as_deref() {
            None | Some("") => return Err(OAuthError::new(
                403,
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured",
            )),
            Some(audience) => audience,
        };
        if !config.audiences.iter().any(|a| a == audience) {
            return Err(OAuthError::new(
                403,
                "access_denied",
                format!("Service not enabled within domain: {audience}"),
            ));
        }
        let requested = split_list(request.scope.as_deref().unwrap_or_default());
        let granted: Vec<String> = if requested.is_empty() {
            config.allowed_scopes.clone()
        } else {
            let missing: Vec<&str> = requested
                .iter()
                .filter(|s| !config.allowed_scopes.contains(s))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(OAuthError::new(
                    403,
                    "access_denied",
                    format!("Client has not been granted scopes: {}", missing.join(" ")),
                ));
            }
            let mut unique: Vec<String> = Vec::new();
            for scope in requested {
                if !unique.contains(&scope) {
                    unique.push(scope);
                }
            }
            unique
        };
        let scope = granted.join(" ");
        let kid = self.current_kid();
        let access_token = self
            .mint(audience, &scope, now)
            .map_err(|err| OAuthError::new(500, "server_error", err))?;
        Ok(Grant {
            access_token,
            scope,
            expires_in: config.token_ttl_s,
            kid,
        })
    }

    /// Routes one HTTP request.
    pub fn handle(&self, request: &Request) -> Response {
        let method = request.method.as_str();
        let read_only = method == "GET" || method == "HEAD";
        match (request.path(), read_only, method == "POST") {
            ("/.well-known/openid-configuration", true, _) => {
                Response::json_pretty(200, &self.discovery())
            }
            ("/.well-known/jwks.json", true, _) => Response::json_pretty(200, &self.jwks()),
            ("/", true, _) => Response::json_pretty(
                200,
                &json!({
                    "service": "jwt-guard dev-idp (development only)",
                    "issuer": self.config.issuer,
                    "audiences": self.config.audiences,
                    "client_id": self.config.client_id,
                    "allowed_scopes": self.config.allowed_scopes,
                    "current_kid": self.current_kid(),
                    "endpoints": ["GET /.well-known/openid-configuration",
                                  "GET /.well-known/jwks.json",
                                  "POST /oauth/token", "POST /rotate"],
                }),
            ),
            ("/oauth/token", _, true) => self.handle_token(request),
            ("/rotate", _, true) => self.handle_rotate(),
            ("/.well-known/openid-configuration" | "/.well-known/jwks.json" | "/", _, _) => {
                method_not_allowed("GET, HEAD")
            }
            ("/oauth/token" | "/rotate", _, _) => method_not_allowed("POST"),
            _ => Response::json(
                404,
                &json!({"error": "not_found", "error_description": "no such endpoint"}),
            ),
        }
    }

    fn handle_token(&self, request: &Request) -> Response {
        let outcome =
            TokenRequest::from_request(request).and_then(|params| self.grant(&params, unix_now()));
        match outcome {
            Ok(grant) => {
                eprintln!(
                    "dev-idp: issued a token for {} (scope {:?}, kid {}, expires in {} s)",
                    self.config.client_id, grant.scope, grant.kid, grant.expires_in
                );
                grant.response()
            }
            Err(err) => {
                eprintln!(
                    "dev-idp: token request refused: {} {}: {}",
                    err.status, err.error, err.description
                );
                err.response()
            }
        }
    }

    fn handle_rotate(&self) -> Response {
        match new_signing_key() {
            Ok(key) => {
                let (kid, previous_kid) = self.rotate(key);
                eprintln!("dev-idp: rotated the signing key: {previous_kid} -> {kid}");
                Response::json(
                    200,
                    &json!({"kid": kid, "previous_kid": previous_kid, "jwks_keys": 2}),
                )
            }
            Err(err) => Response::json(
                500,
                &json!({"error": "server_error", "error_description": err}),
            ),
        }
    }
}

fn method_not_allowed(allow: &str) -> Response {
    Response::json(
        405,
        &json!({"error": "method_not_allowed", "error_description": format!("use {allow}")}),
    )
    .header("Allow", allow)
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    // RSA key generation is slow in debug builds: make two keys once for all tests.
    fn key(n: usize) -> RS256KeyPair {
        static KEYS: OnceLock<Vec<RS256KeyPair>> = OnceLock::new();
        KEYS.get_or_init(|| {
            let handles: Vec<_> = (0..2)
                .map(|_| std::thread::spawn(|| new_signing_key().unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })[n]
            .clone()
    }

    fn config() -> IdpConfig {
        let flags = Flags::parse(
            [
                "--audience",
                "https://api.example.com",
                "--audience",
                "https://other.example.com",
            ]
            .map(String::from),
            FLAGS,
        )
        .unwrap();
        IdpConfig::from_flags(&flags, "127.0.0.1:9000".parse().unwrap()).unwrap()
    }

    fn idp() -> Idp {
        Idp::new(config(), key(0))
    }

    fn token_request(body: &str, content_type: &str) -> Request {
        Request {
            method: "POST".into(),
            target: "/oauth/token".into(),
            version: "HTTP/1.1".into(),
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn segment(token: &str, n: usize) -> Value {
        let part = token.split('.').nth(n).unwrap();
        serde_json::from_slice(&Base64UrlSafeNoPadding::decode_to_vec(part, None).unwrap()).unwrap()
    }

    fn verify(idp: &Idp, token: &str) -> JWTClaims<Auth0Claims> {
        let kid = segment(token, 0)["kid"].as_str().unwrap().to_string();
        let jwks = idp.jwks();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap();
        let public = RS256PublicKey::from_jwk(&jwk.to_string()).unwrap();
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from_strings(&["http://127.0.0.1:9000/"])),
            allowed_audiences: Some(HashSet::from_strings(&["https://api.example.com"])),
            ..Default::default()
        };
        public.verify_token(token, Some(options)).unwrap()
    }

    #[test]
    fn defaults_and_issuer() {
        let flags = Flags::parse(Vec::new(), FLAGS).unwrap();
        let cfg = IdpConfig::from_flags(&flags, "0.0.0.0:9100".parse().unwrap()).unwrap();
        assert_eq!(cfg.issuer, "http://127.0.0.1:9100/");
        assert_eq!(cfg.audiences, [DEFAULT_AUDIENCE]);
        assert_eq!(cfg.allowed_scopes, ["read:data", "write:admin"]);
        assert_eq!(cfg.token_ttl_s, DEFAULT_TOKEN_TTL_S);
        assert_eq!(default_issuer("[::]:1".parse().unwrap()), "http://[::1]:1/");
        let bad = Flags::parse(["--token-ttl-s", "0"].map(String::from), FLAGS).unwrap();
        assert!(IdpConfig::from_flags(&bad, "127.0.0.1:1".parse().unwrap()).is_err());
        let bad = Flags::parse(["--issuer", "idp"].map(String::from), FLAGS).unwrap();
        assert!(IdpConfig::from_flags(&bad, "127.0.0.1:1".parse().unwrap()).is_err());
    }

    #[test]
    fn minted_token_has_auth0_claim_shape() {
        let idp = idp();
        let now = unix_now();
        let token = idp
            .mint("https://api.example.com", "read:data", now)
            .unwrap();

        let header = segment(&token, 0);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], idp.current_kid().as_str());
        assert_eq!(header.as_object().unwrap().len(), 3, "{header}");

        let payload = segment(&token, 1);
        let expected = json!({
            "iss": "http://127.0.0.1:9000/",
            "sub": "demo-client@clients",
            "aud": "https://api.example.com",
            "iat": now,
            "exp": now + DEFAULT_TOKEN_TTL_S,
            "scope": "read:data",
            "gty": "client-credentials",
            "azp": "demo-client",
        });
        assert_eq!(payload, expected);

        let claims = verify(&idp, &token);
        assert_eq!(claims.subject.as_deref(), Some("demo-client@clients"));
        assert_eq!(claims.custom.scope.as_deref(), Some("read:data"));
    }

    #[test]
    fn token_without_scope_omits_the_claim() {
        let token = idp()
            .mint("https://api.example.com", "", 1_700_000_000)
            .unwrap();
        assert!(segment(&token, 1).get("scope").is_none());
    }

    #[test]
    fn token_endpoint_form_and_json() {
        let idp = idp();
        let form = token_request(
            "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret\
             &audience=https%3A%2F%2Fapi.example.com&scope=read%3Adata",
            "application/x-www-form-urlencoded",
        );
        let response = idp.handle(&form);
        assert_eq!(response.status, 200);
        assert!(response
            .headers
            .contains(&("Cache-Control".into(), "no-store".into())));
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], DEFAULT_TOKEN_TTL_S);
        assert_eq!(body["scope"], "read:data");
        verify(&idp, body["access_token"].as_str().unwrap());

        let json_body = token_request(
            r#"{"grant_type":"client_credentials","client_id":"demo-client",
                "client_secret":"demo-secret","audience":"https://api.example.com"}"#,
            "application/json; charset=utf-8",
        );
        let response = idp.handle(&json_body);
        assert_eq!(response.status, 200);
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["scope"], "read:data write:admin");
        let claims = verify(&idp, body["access_token"].as_str().unwrap());
        assert_eq!(
            claims.custom.scope.as_deref(),
            Some("read:data write:admin")
        );
    }

    #[test]
    fn token_endpoint_refusals_look_like_auth0() {
        let idp = idp();
        let cases = [
            ("client_id=demo-client&client_secret=demo-secret&audience=https%3A%2F%2Fapi.example.com",
             400, "invalid_request"),
            ("grant_type=password&client_id=demo-client&client_secret=demo-secret",
             400, "unsupported_grant_type"),
            ("grant_type=client_credentials&client_id=demo-client&client_secret=wrong&audience=https%3A%2F%2Fapi.example.com",
             401, "access_denied"),
            ("grant_type=client_credentials&client_id=other&client_secret=demo-secret&audience=https%3A%2F%2Fapi.example.com",
             401, "access_denied"),
            ("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret&audience=https%3A%2F%2Funknown",
             403, "access_denied"),
            ("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret",
             403, "access_denied"),
            ("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret&audience=https%3A%2F%2Fapi.example.com&scope=delete%3Aall",
             403, "access_denied"),
            ("grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"),
            ("grant_type=%zz", 400, "invalid_request"),
        ];
        for (body, status, error) in cases {
            let response = idp.handle(&token_request(body, "application/x-www-form-urlencoded"));
            assert_eq!(response.status, status, "{body}");
            let answer: Value = serde_json::from_slice(&response.body).unwrap();
            assert_eq!(answer["error"], error, "{body}");
            assert!(answer["error_description"].is_string());
        }
        let response = idp.handle(&token_request("[1]", "application/json"));
        assert_eq!(response.status, 400);
        let response = idp.handle(&token_request(r#"{"grant_type":1}"#, "application/json"));
        assert_eq!(response.status, 400);
        let response = idp.handle(&token_request("x", "text/plain"));
        assert_eq!(response.status, 400);
    }

    #[test]
    fn unknown_audience_names_it() {
        let err = idp()
            .grant(
                &TokenRequest {
                    grant_type: Some("client_credentials".into()),
                    client_id: Some("demo-client".into()),
                    client_secret: Some("demo-secret".into()),
                    audience: Some("https://nope".into()),
                    scope: None,
                },
                0,
            )
            .unwrap_err();
        assert_eq!(
            err.description,
            "Service not enabled within domain: https://nope"
        );
    }

    #[test]
    fn rotation_keeps_previous_key_in_jwks() {
        let idp = idp();
        let old_kid = idp.current_kid();
        let old_token = idp
            .mint("https://api.example.com", "read:data", unix_now())
            .unwrap();
        assert_eq!(idp.jwks()["keys"].as_array().unwrap().len(), 1);

        let (new_kid, previous) = idp.rotate(key(1));
        assert_eq!(previous, old_kid);
        assert_ne!(new_kid, old_kid);
        let jwks = idp.jwks();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);
        for k in jwks["keys"].as_array().unwrap() {
            assert_eq!(k["kty"], "RSA");
            assert_eq!(k["alg"], "RS256");
            assert_eq!(k["use"], "sig");
            assert!(k.get("d").is_none(), "private part leaked: {k}");
        }
        let new_token = idp
            .mint("https://api.example.com", "read:data", unix_now())
            .unwrap();
        assert_eq!(segment(&new_token, 0)["kid"], new_kid.as_str());
        verify(&idp, &new_token);
        verify(&idp, &old_token);

        // A second rotation drops the oldest key.
        idp.rotate(key(0));
        let jwks = idp.jwks();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert_eq!(jwks["keys"][0]["kid"], old_kid.as_str());
        assert_eq!(jwks["keys"][1]["kid"], new_kid.as_str());
    }

    #[test]
    fn discovery_and_routing() {
        let idp = idp();
        let doc = idp.discovery();
        assert_eq!(doc["issuer"], "http://127.0.0.1:9000/");
        assert_eq!(
            doc["jwks_uri"],
            "http://127.0.0.1:9000/.well-known/jwks.json"
        );
        assert_eq!(doc["token_endpoint"], "http://127.0.0.1:9000/oauth/token");
        let get = |path: &str, method: &str| {
            idp.handle(&Request {
                method: method.into(),
                target: path.into(),
                version: "HTTP/1.1".into(),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .status
        };
        assert_eq!(get("/.well-known/openid-configuration", "GET"), 200);
        assert_eq!(get("/.well-known/jwks.json?x=1", "GET"), 200);
        assert_eq!(get("/.well-known/jwks.json", "POST"), 405);
        assert_eq!(get("/oauth/token", "GET"), 405);
        assert_eq!(get("/rotate", "GET"), 405);
        assert_eq!(get("/nope", "GET"), 404);
    }

    #[test]
    fn form_decoding() {
        let pairs = parse_form(b"a=1+2&b=%41%3d&c&&d=").unwrap();
        let expected = [("a", "1 2"), ("b", "A="), ("c", ""), ("d", "")];
        assert_eq!(pairs, expected.map(|(n, v)| (n.to_string(), v.to_string())));
        assert!(parse_form(b"a=%4").is_err());
        assert!(parse_form(b"a=%+1").is_err());
        assert!(parse_form(b"a=%ff").is_err());
    }
}
