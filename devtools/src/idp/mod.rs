//! `dev-idp`: a development identity provider that answers like an Auth0 tenant, so the
//! whole flow jwt-guard protects can run locally:
//!
//! - a single-page app signs a user in with the Authorization Code Flow with PKCE
//!   ([`authorize`]: `/authorize`, the login page, `/v2/logout`) and exchanges the code
//!   at `/oauth/token` ([`token`]) for an ID token and an access token carrying the
//!   user's RBAC `permissions`, and a rotating refresh token with `offline_access`
//!   ([`refresh`]);
//! - a machine gets an access token with the client-credentials grant;
//! - the tokens are RS256, shaped as Auth0 shapes them ([`tokens`]), and the keys are
//!   served as a JWKS; `POST /rotate` switches to a new signing key ([`keys`]).
//!
//! The endpoints an SPA calls with `fetch` answer CORS for the configured web origins.

pub mod authorize;
pub mod config;
pub mod error;
pub mod keys;
pub mod refresh;
pub mod token;
pub mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jwt_simple::prelude::RS256KeyPair;
use serde_json::{json, Value};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

pub use config::{Args, IdpConfig, User};
pub use error::OAuthError;
use keys::KeyRing;

/// Largest request body accepted (forms and JSON token requests are small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The provider: its configuration, signing keys, sign-in sessions and pending codes.
pub struct Idp {
    config: IdpConfig,
    keys: Mutex<KeyRing>,
    codes: Mutex<HashMap<String, authorize::PendingCode>>,
    sessions: Mutex<HashMap<String, authorize::Session>>,
    refresh_tokens: Mutex<refresh::RefreshTokens>,
}

/// Locks a mutex; the values behind these locks are replaced whole, so a poisoned lock
/// still holds a consistent value.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Idp {
    pub fn new(config: IdpConfig, signing_key: RS256KeyPair) -> Self {
        Idp {
            config,
            keys: Mutex::new(KeyRing::new(signing_key)),
            codes: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(refresh::RefreshTokens::default()),
        }
    }

    pub fn config(&self) -> &IdpConfig {
        &self.config
    }

    fn keys(&self) -> MutexGuard<'_, KeyRing> {
        lock(&self.keys)
    }

    /// The `kid` tokens are signed with now.
    pub fn current_kid(&self) -> String {
        self.keys().current_kid()
    }

    /// Makes `new_key` the signing key; returns the new and the previous `kid`.
    pub fn rotate(&self, new_key: RS256KeyPair) -> (String, String) {
        self.keys().rotate(new_key)
    }

    /// The public keys as a JWKS document, the signing key first.
    pub fn jwks(&self) -> Value {
        self.keys().jwks()
    }

    /// The OIDC discovery document.
    pub fn discovery(&self) -> Value {
        let base = self.config.base_url();
        let mut scopes = vec![
            "openid".to_string(),
            "profile".into(),
            "email".into(),
            "offline_access".into(),
        ];
        scopes.extend(self.config.allowed_scopes.iter().cloned());
        json!({
            "issuer": self.config.issuer,
            "authorization_endpoint": format!("{base}authorize"),
            "token_endpoint": format!("{base}oauth/token"),
            "userinfo_endpoint": format!("{base}userinfo"),
            "jwks_uri": format!("{base}.well-known/jwks.json"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "web_message"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
            "scopes_supported": scopes,
            "claims_supported": ["iss", "sub", "aud", "iat", "exp", "azp", "nonce", "sid",
                                 "auth_time", "name", "nickname", "email", "email_verified",
                                 "scope", "permissions", "gty"],
        })
    }

    fn summary(&self) -> Value {
        let cfg = &self.config;
        json!({
            "service": "jwt-guard dev-idp (development only)",
            "issuer": cfg.issuer,
            "audiences": cfg.audiences,
            "client_id": cfg.client_id,
            "allowed_scopes": cfg.allowed_scopes,
            "spa_client_id": cfg.spa_client_id,
            "callback_urls": cfg.callback_urls,
            "web_origins": cfg.web_origins,
            "users": cfg.users.iter()
                .map(|u| json!({"name": u.name, "sub": u.subject(), "permissions": u.permissions}))
                .collect::<Vec<_>>(),
            "current_kid": self.current_kid(),
            "endpoints": ["GET /.well-known/openid-configuration", "GET /.well-known/jwks.json",
                          "GET /authorize", "POST /oauth/token", "GET /userinfo",
                          "GET /v2/logout", "POST /rotate"],
        })
    }
}

/// CORS for the endpoints the SPA's SDK calls with `fetch`: only the configured web
/// origins get a grant (no credentials: these endpoints do not use cookies).
fn browser_cors(config: &IdpConfig) -> CorsLayer {
    let origins: Vec<HeaderValue> = config
        .web_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(Duration::from_secs(600))
}

/// Every endpoint of the provider.
pub fn router(idp: Arc<Idp>) -> Router {
    let browser_api = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/oauth/token", post(token::token))
        .route("/userinfo", get(token::userinfo))
        .layer(browser_cors(&idp.config));
    Router::new()
        .route("/", get(root))
        .route("/authorize", get(authorize::authorize))
        .route("/login", post(authorize::login))
        .route("/v2/logout", get(authorize::logout))
        .route("/rotate", post(rotate))
        .merge(browser_api)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(idp)
}

fn pretty(value: &Value) -> Response {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], text + "\n").into_response()
}

async fn root(State(idp): State<Arc<Idp>>) -> Response {
    pretty(&idp.summary())
}

async fn discovery(State(idp): State<Arc<Idp>>) -> Response {
    pretty(&idp.discovery())
}

async fn jwks(State(idp): State<Arc<Idp>>) -> Response {
    pretty(&idp.jwks())
}

async fn rotate(State(idp): State<Arc<Idp>>) -> Response {
    // RSA key generation takes a while: keep it off the async workers.
    let key = tokio::task::spawn_blocking(keys::new_signing_key)
        .await
        .map_err(|err| err.to_string())
        .and_then(|key| key);
    match key {
        Ok(key) => {
            let (kid, previous_kid) = idp.rotate(key);
            eprintln!("dev-idp: rotated the signing key: {previous_kid} -> {kid}");
            Json(json!({"kid": kid, "previous_kid": previous_kid, "jwks_keys": 2})).into_response()
        }
        Err(err) => OAuthError::server_error(err).into_response(),
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "not_found", "error_description": "no such endpoint"})),
    )
        .into_response()
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A random URL-safe value with 256 bits of entropy (codes, session ids).
pub fn random_id() -> String {
    use jwt_simple::prelude::*;
    let bytes: [u8; 32] = rand::random();
    Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests;
