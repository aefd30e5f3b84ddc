//! `POST /oauth/token` (authorization code with PKCE and rotating refresh tokens for the
//! SPA, client credentials for machines) and `GET /userinfo`, answering as Auth0 does.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::authorize::verifier_matches;
use super::config::split_list;
use super::error::OAuthError;
use super::refresh::Refused;
use super::tokens::UserGrant;
use super::{lock, tokens, unix_now, Idp};

/// The parameters of a token request (others are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
    pub code: Option<String>,
    pub code_verifier: Option<String>,
    pub redirect_uri: Option<String>,
    pub refresh_token: Option<String>,
}

impl TokenRequest {
    fn set(&mut self, name: &str, value: String) -> Result<(), OAuthError> {
        let slot = match name {
            "grant_type" => &mut self.grant_type,
            "client_id" => &mut self.client_id,
            "client_secret" => &mut self.client_secret,
            "audience" => &mut self.audience,
            "scope" => &mut self.scope,
            "code" => &mut self.code,
            "code_verifier" => &mut self.code_verifier,
            "redirect_uri" => &mut self.redirect_uri,
            "refresh_token" => &mut self.refresh_token,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(OAuthError::invalid_request(format!(
                "Parameter given more than once: {name}"
            )));
        }
        *slot = Some(value);
        Ok(())
    }

    /// Reads the parameters from a form-encoded (the default) or JSON body.
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let media_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/x-www-form-urlencoded")
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let mut params = TokenRequest::default();
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => {
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                    .map_err(|_| OAuthError::invalid_request("Malformed form body"))?;
                for (name, value) in pairs {
                    params.set(&name, value)?;
                }
            }
            "application/json" => {
                let fields: Map<String, Value> = serde_json::from_slice(body).map_err(|_| {
                    OAuthError::invalid_request("Request body must be a JSON object")
                })?;
                for (name, value) in fields {
                    match value {
                        Value::String(text) => params.set(&name, text)?,
                        Value::Null => {}
                        _ => {
                            return Err(OAuthError::invalid_request(format!(
                                "Parameter must be a string: {name}"
                            )))
                        }
                    }
                }
            }
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "Unsupported content type: {other}"
                )))
            }
        }
        Ok(params)
    }
}

/// What a successful token request returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: String,
    pub expires_in: u64,
    pub kid: String,
}

impl IntoResponse for Grant {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("access_token".into(), json!(self.access_token));
        if let Some(id_token) = self.id_token {
            body.insert("id_token".into(), json!(id_token));
        }
        if let Some(refresh_token) = self.refresh_token {
            body.insert("refresh_token".into(), json!(refresh_token));
        }
        if !self.scope.is_empty() {
            body.insert("scope".into(), json!(self.scope));
        }
        body.insert("expires_in".into(), json!(self.expires_in));
        body.insert("token_type".into(), json!("Bearer"));
        (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            Json(Value::Object(body)),
        )
            .into_response()
    }
}

fn missing(name: &str) -> OAuthError {
    OAuthError::invalid_request(format!("Missing required parameter: {name}"))
}

impl Idp {
    /// Checks a token request the way Auth0 does and issues the tokens.
    pub fn grant(&self, request: &TokenRequest, now: u64) -> Result<Grant, OAuthError> {
        match request.grant_type.as_deref() {
            None => Err(missing("grant_type")),
            Some("client_credentials") => self.client_credentials(request, now),
            Some("authorization_code") => self.authorization_code(request, now),
            Some("refresh_token") => self.refresh(request, now),
            Some(other) => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("Unsupported grant type: {other}"),
            )),
        }
    }

    fn client_credentials(&self, request: &TokenRequest, now: u64) -> Result<Grant, OAuthError> {
        let config = &self.config;
        if request.client_id.as_deref() != Some(config.client_id.as_str())
            || request.client_secret.as_deref() != Some(config.client_secret.as_str())
        {
            return Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "access_denied",
                "Unauthorized",
            ));
        }
        let audience = match request.audience.as_deref() {
            None | Some("") => return Err(OAuthError::access_denied(
                "No audience parameter was provided, and no default audience has been configured",
            )),
            Some(audience) => audience,
        };
        if !config.audiences.iter().any(|a| a == audience) {
            return Err(OAuthError::access_denied(format!(
                "Service not enabled within domain: {audience}"
            )));
        }
        let requested = split_list(request.scope.as_deref().unwrap_or_default());
        let missing: Vec<&str> = requested
            .iter()
            .filter(|s| !config.allowed_scopes.contains(s))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(OAuthError::access_denied(format!(
                "Client has not been granted scopes: {}",
                missing.join(" ")
            )));
        }
        let scope = if requested.is_empty() {
            config.allowed_scopes.join(" ")
        } else {
            requested.join(" ")
        };
        let keys = self.keys();
        let access_token = keys
            .sign(tokens::client_access_token(config, audience, &scope, now))
            .map_err(OAuthError::server_error)?;
        eprintln!(
            "dev-idp: issued a token for {} (scope {scope:?}, kid {})",
            config.client_id,
            keys.current_kid()
        );
        Ok(Grant {
            access_token,
            id_token: None,
            refresh_token: None,
            scope,
            expires_in: config.token_ttl_s,
            kid: keys.current_kid(),
        })
    }

    fn authorization_code(&self, request: &TokenRequest, now: u64) -> Result<Grant, OAuthError> {
        let config = &self.config;
        if request.client_id.as_deref() != Some(config.spa_client_id.as_str()) {
            return Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "access_denied",
                "Unauthorized",
            ));
        }
        let code = request.code.as_deref().ok_or_else(|| missing("code"))?;
        let verifier = request
            .code_verifier
            .as_deref()
            .ok_or_else(|| missing("code_verifier"))?;
        // A code is spent by its first use, successful or not.
        let pending = self
            .take_code(code)
            .ok_or_else(|| OAuthError::invalid_grant("Invalid authorization code"))?;
        if request.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        if !verifier_matches(verifier, &pending.code_challenge) {
            return Err(OAuthError::invalid_grant("Failed to verify code verifier"));
        }
        self.user_tokens(&pending.grant, None, now)
    }

    /// `refresh_token`: spends the refresh token and issues new tokens and a new refresh
    /// token of the same family; a spent one revokes its family.
    fn refresh(&self, request: &TokenRequest, now: u64) -> Result<Grant, OAuthError> {
        if request.client_id.as_deref() != Some(self.config.spa_client_id.as_str()) {
            return Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "access_denied",
                "Unauthorized",
            ));
        }
        let token = request
            .refresh_token
            .as_deref()
            .ok_or_else(|| missing("refresh_token"))?;
        let rotated = lock(&self.refresh_tokens).rotate(token, now);
        let (mut grant, family) = rotated.map_err(|refused| {
            if refused == Refused::Reused {
                eprintln!("dev-idp: a spent refresh token was used again: its family is revoked");
            }
            OAuthError::invalid_grant("Unknown or invalid refresh token.")
        })?;
        grant.nonce = None;
        self.user_tokens(&grant, Some(family), now)
    }

    /// The tokens of a user's grant: access token, ID token with `openid`, and a refresh
    /// token (of `family`, or a new one) with `offline_access`.
    fn user_tokens(
        &self,
        grant: &UserGrant,
        family: Option<String>,
        now: u64,
    ) -> Result<Grant, OAuthError> {
        let config = &self.config;
        let refresh_token = if grant.has_scope("offline_access") {
            let issued = lock(&self.refresh_tokens).issue(grant.clone(), family, now);
            Some(issued.ok_or_else(|| {
                OAuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "Too many refresh tokens",
                )
            })?)
        } else {
            None
        };
        let keys = self.keys();
        let access_token = keys
            .sign(grant.access_token(config, now))
            .map_err(OAuthError::server_error)?;
        let id_token = grant
            .id_token(config, now)
            .map(|claims| keys.sign(claims))
            .transpose()
            .map_err(OAuthError::server_error)?;
        eprintln!(
            "dev-idp: issued tokens for {} via {} (scope {:?}, kid {})",
            grant.user.name,
            config.spa_client_id,
            grant.scope,
            keys.current_kid()
        );
        Ok(Grant {
            access_token,
            id_token,
            refresh_token,
            scope: grant.scope.clone(),
            expires_in: config.token_ttl_s,
            kid: keys.current_kid(),
        })
    }

    /// The profile behind a `/userinfo` access token.
    pub fn userinfo(&self, authorization: Option<&str>) -> Result<Value, &'static str> {
        use jwt_simple::prelude::*;
        let token = authorization
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or("missing bearer token")?;
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from_strings(&[&self.config.issuer])),
            allowed_audiences: Some(HashSet::from_strings(&[self.config.userinfo_audience()])),
            ..Default::default()
        };
        let claims = self
            .keys()
            .verify(token, options)
            .map_err(|_| "invalid token")?;
        let user = claims
            .subject
            .as_deref()
            .and_then(|sub| self.config.user_by_subject(sub))
            .ok_or("unknown user")?;
        Ok(json!({
            "sub": user.subject(),
            "nickname": user.name,
            "name": user.email(),
            "email": user.email(),
            "email_verified": true,
        }))
    }
}

/// `POST /oauth/token`.
pub async fn token(State(idp): State<Arc<Idp>>, headers: HeaderMap, body: Bytes) -> Response {
    match TokenRequest::parse(&headers, &body).and_then(|params| idp.grant(&params, unix_now())) {
        Ok(grant) => grant.into_response(),
        Err(err) => {
            eprintln!(
                "dev-idp: token request refused: {} {}: {}",
                err.status.as_u16(),
                err.error,
                err.description
            );
            err.into_response()
        }
    }
}

/// `GET /userinfo`.
pub async fn userinfo(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match idp.userinfo(authorization) {
        Ok(profile) => Json(profile).into_response(),
        Err(why) => (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"invalid_token\", error_description=\"{why}\""),
            )],
            Json(json!({"error": "invalid_token", "error_description": why})),
        )
            .into_response(),
    }
}
