//! The tokens, shaped as Auth0 shapes them: access tokens for a client (client
//! credentials) or for a user (authorization code, RBAC permissions), and ID tokens.

use jwt_simple::prelude::*;
use serde_json::Value;

use super::config::{IdpConfig, User};

/// The claims Auth0 adds to an access token besides the registered ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// A string for one API; `[API, ISSUER/userinfo]` when `openid` was requested.
    #[serde(default)]
    pub aud: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `client-credentials` for machine tokens, absent for user tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    pub azp: String,
    /// The user's RBAC permissions (the API has "Add Permissions in the Access Token").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// The claims of an ID token besides `iss`, `sub`, `iat`, `exp` and `nonce`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    pub aud: String,
    pub azp: String,
    pub sid: String,
    pub auth_time: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

fn registered<C>(config: &IdpConfig, subject: String, now: u64, custom: C) -> JWTClaims<C> {
    JWTClaims {
        issued_at: Some(Duration::from_secs(now)),
        expires_at: Some(Duration::from_secs(now.saturating_add(config.token_ttl_s))),
        invalid_before: None,
        issuer: Some(config.issuer.clone()),
        subject: Some(subject),
        audiences: None,
        jwt_id: None,
        nonce: None,
        custom,
    }
}

/// A client-credentials access token for the machine-to-machine client.
pub fn client_access_token(
    config: &IdpConfig,
    audience: &str,
    scope: &str,
    now: u64,
) -> JWTClaims<AccessClaims> {
    let client_id = &config.client_id;
    registered(
        config,
        format!("{client_id}@clients"),
        now,
        AccessClaims {
            aud: Value::String(audience.to_string()),
            scope: (!scope.is_empty()).then(|| scope.to_string()),
            gty: Some("client-credentials".to_string()),
            azp: client_id.clone(),
            permissions: None,
        },
    )
}

/// What a user was granted at the authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    pub user: User,
    /// The API the token is for; `None` gives a token for `/userinfo` only.
    pub audience: Option<String>,
    /// The scopes granted, space separated.
    pub scope: String,
    pub nonce: Option<String>,
    pub sid: String,
    pub auth_time: u64,
}

impl UserGrant {
    /// Whether `name` was granted.
    pub fn has_scope(&self, name: &str) -> bool {
        self.scope.split(' ').any(|s| s == name)
    }

    /// The user's access token: `aud` is the API (and `/userinfo` with `openid`), and
    /// `permissions` lists the user's RBAC permissions when an API was asked for.
    pub fn access_token(&self, config: &IdpConfig, now: u64) -> JWTClaims<AccessClaims> {
        let userinfo = config.userinfo_audience();
        let aud = match (&self.audience, self.has_scope("openid")) {
            (Some(api), true) => Value::from(vec![api.clone(), userinfo]),
            (Some(api), false) => Value::from(api.clone()),
            (None, _) => Value::from(userinfo),
        };
        registered(
            config,
            self.user.subject(),
            now,
            AccessClaims {
                aud,
                scope: Some(self.scope.clone()),
                gty: None,
                azp: config.spa_client_id.clone(),
                permissions: self
                    .audience
                    .as_ref()
                    .map(|_| self.user.permissions.clone()),
            },
        )
    }

    /// The ID token (when `openid` was requested): `aud` is the SPA's client id.
    pub fn id_token(&self, config: &IdpConfig, now: u64) -> Option<JWTClaims<IdClaims>> {
        if !self.has_scope("openid") {
            return None;
        }
        let profile = self.has_scope("profile");
        let email = self.has_scope("email");
        let mut claims = registered(
            config,
            self.user.subject(),
            now,
            IdClaims {
                aud: config.spa_client_id.clone(),
                azp: config.spa_client_id.clone(),
                sid: self.sid.clone(),
                auth_time: self.auth_time,
                nickname: profile.then(|| self.user.name.clone()),
                name: profile.then(|| self.user.email()),
                email: email.then(|| self.user.email()),
                email_verified: email.then_some(true),
            },
        );
        claims.nonce = self.nonce.clone();
        Some(claims)
    }
}

/// The scopes a user gets: the OpenID Connect ones asked for (and `offline_access`, for a
/// refresh token, when an API was asked for: the API "allows offline access"), and the API
/// scopes asked for that the user holds as permissions (Auth0 with RBAC); others are dropped.
pub fn granted_user_scope(requested: &str, user: &User, api: bool) -> String {
    const OIDC: [&str; 3] = ["openid", "profile", "email"];
    let mut granted: Vec<&str> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        let allowed = OIDC.contains(&scope)
            || (api && scope == "offline_access")
            || (api && user.permissions.iter().any(|p| p == scope));
        if allowed && !granted.contains(&scope) {
            granted.push(scope);
        }
    }
    granted.join(" ")
}
