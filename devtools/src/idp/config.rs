//! The dev IdP's command line and what it becomes: the tenant's issuer and APIs, one
//! machine-to-machine client, one SPA client and the demo users.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use clap::Parser;
use sha2::{Digest, Sha256};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
pub const DEFAULT_AUDIENCE: &str = "https://api.example.com";
pub const DEFAULT_CLIENT_ID: &str = "demo-client";
pub const DEFAULT_CLIENT_SECRET: &str = "demo-secret";
pub const DEFAULT_SCOPES: &str = "read:data write:admin";
pub const DEFAULT_SPA_CLIENT_ID: &str = "demo-spa";
pub const DEFAULT_TOKEN_TTL_S: u64 = 3600;

const ENDPOINTS: &str = "\
Endpoints (as an Auth0 tenant has them):
  GET  /.well-known/openid-configuration   OIDC discovery
  GET  /.well-known/jwks.json              public keys (current, and previous after a rotation)
  GET  /authorize                          Authorization Code + PKCE (S256); response_mode query
                                           or web_message; prompt=none|login; shows a login page
  POST /oauth/token                        authorization_code (public SPA client, code_verifier),
                                           refresh_token (with offline_access; rotated, reuse
                                           revokes the family) and client_credentials
                                           (form or JSON body)
  GET  /userinfo                           the signed-in user's profile (Bearer access token)
  GET  /v2/logout                          ends the session, then redirects to returnTo
  POST /rotate                             switch to a new signing key, keep the old one in the JWKS

Development only: anyone who can reach it can sign in as any demo user.";

/// Command line of `dev-idp`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "dev-idp",
    about = "A local identity provider that behaves like an Auth0 tenant",
    after_help = ENDPOINTS
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// iss of the tokens (default http://ADDR/, with the trailing slash Auth0 puts there).
    #[arg(long)]
    pub issuer: Option<String>,
    /// An API identifier tokens can be asked for (repeatable).
    #[arg(long = "audience", default_value = DEFAULT_AUDIENCE)]
    pub audiences: Vec<String>,
    /// The machine-to-machine client (client credentials grant).
    #[arg(long, default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Its secret.
    #[arg(long, default_value = DEFAULT_CLIENT_SECRET)]
    pub client_secret: String,
    /// Scopes granted to the machine-to-machine client, space or comma separated.
    #[arg(long, default_value = DEFAULT_SCOPES)]
    pub allowed_scopes: String,
    /// Lifetime of access and ID tokens, in seconds.
    #[arg(long, default_value_t = DEFAULT_TOKEN_TTL_S,
          value_parser = clap::value_parser!(u64).range(1..=u64::from(u32::MAX)))]
    pub token_ttl_s: u64,
    /// The single-page app's client id (a public client: PKCE, no secret).
    #[arg(long, default_value = DEFAULT_SPA_CLIENT_ID)]
    pub spa_client_id: String,
    /// An Allowed Callback URL of the SPA, matched exactly (repeatable); also an allowed
    /// logout returnTo.
    #[arg(long = "callback-url")]
    pub callback_urls: Vec<String>,
    /// An Allowed Web Origin of the SPA, like http://127.0.0.1:3000 (repeatable): CORS on
    /// the endpoints the SDK calls from the browser, and web_message targets.
    #[arg(long = "web-origin")]
    pub web_origins: Vec<String>,
    /// A demo user, NAME=PERMISSION[,PERMISSION...] (repeatable); the permissions are
    /// its RBAC permissions on every API.
    #[arg(long = "user", value_parser = parse_user,
          default_values = ["reader=read:data", "admin=read:data,write:admin"])]
    pub users: Vec<User>,
}

/// A demo user who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name, also the local part of the e-mail address.
    pub name: String,
    /// RBAC permissions, put in the access token's `permissions` claim.
    pub permissions: Vec<String>,
}

impl User {
    /// `auth0|` and a stable id derived from the name, as Auth0 database users look.
    pub fn subject(&self) -> String {
        let digest = Sha256::digest(self.name.as_bytes());
        let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        format!("auth0|{hex}")
    }

    /// The user's e-mail address.
    pub fn email(&self) -> String {
        format!("{}@example.com", self.name)
    }
}

fn parse_user(text: &str) -> Result<User, String> {
    let (name, permissions) = text.split_once('=').unwrap_or((text, ""));
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !valid_name {
        return Err(format!(
            "user name must be 1-64 of [A-Za-z0-9._-], got {name:?} (format NAME=PERM,PERM)"
        ));
    }
    Ok(User {
        name: name.to_string(),
        permissions: split_list(permissions),
    })
}

/// Splits a list given as one value on commas and whitespace.
pub fn split_list(value: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for item in value.split(|c: char| c == ',' || c.is_whitespace()) {
        if !item.is_empty() && !items.iter().any(|i| i == item) {
            items.push(item.to_string());
        }
    }
    items
}

/// What the provider issues and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpConfig {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub allowed_scopes: Vec<String>,
    pub token_ttl_s: u64,
    pub spa_client_id: String,
    pub callback_urls: Vec<String>,
    pub web_origins: Vec<String>,
    pub users: Vec<User>,
}

fn is_http_url(text: &str) -> bool {
    text.strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
}

/// The origin (`scheme://host[:port]`) of an http(s) URL.
pub fn origin_of(url: &str) -> Option<&str> {
    let scheme_len = if url.starts_with("https://") {
        8
    } else if url.starts_with("http://") {
        7
    } else {
        return None;
    };
    let rest = url.get(scheme_len..)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    url.get(..scheme_len.checked_add(end)?)
}

impl IdpConfig {
    /// Checks the command line; `local` is the address actually bound, from which the
    /// default issuer is made.
    pub fn from_args(args: &Args, local: SocketAddr) -> Result<Self, String> {
        let issuer = args.issuer.clone().unwrap_or_else(|| default_issuer(local));
        if !is_http_url(&issuer) {
            return Err(format!("--issuer must be an http(s) URL, got {issuer:?}"));
        }
        if args.audiences.iter().any(String::is_empty) {
            return Err("--audience must not be empty".to_string());
        }
        if args.client_id.is_empty() || args.client_secret.is_empty() {
            return Err("--client-id and --client-secret must not be empty".to_string());
        }
        if args.spa_client_id.is_empty() || args.spa_client_id == args.client_id {
            return Err("--spa-client-id must be set and differ from --client-id".to_string());
        }
        if let Some(bad) = args.callback_urls.iter().find(|u| !is_http_url(u)) {
            return Err(format!(
                "--callback-url must be an http(s) URL, got {bad:?}"
            ));
        }
        if let Some(bad) = args
            .web_origins
            .iter()
            .find(|o| origin_of(o) != Some(o.as_str()))
        {
            return Err(format!(
                "--web-origin must be scheme://host[:port] without a path, got {bad:?}"
            ));
        }
        if args.users.is_empty() {
            return Err("at least one --user is needed".to_string());
        }
        Ok(IdpConfig {
            issuer,
            audiences: args.audiences.clone(),
            client_id: args.client_id.clone(),
            client_secret: args.client_secret.clone(),
            allowed_scopes: split_list(&args.allowed_scopes),
            token_ttl_s: args.token_ttl_s,
            spa_client_id: args.spa_client_id.clone(),
            callback_urls: args.callback_urls.clone(),
            web_origins: args.web_origins.clone(),
            users: args.users.clone(),
        })
    }

    /// The issuer as a base URL ending in exactly one `/`, for building endpoint URLs.
    pub fn base_url(&self) -> String {
        format!("{}/", self.issuer.trim_end_matches('/'))
    }

    /// The audience Auth0 adds to access tokens when `openid` was requested.
    pub fn userinfo_audience(&self) -> String {
        format!("{}userinfo", self.base_url())
    }

    /// The demo user called `name`.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The user whose subject is `sub`.
    pub fn user_by_subject(&self, sub: &str) -> Option<&User> {
        self.users.iter().find(|u| u.subject() == sub)
    }

    /// Whether a logout may redirect to `url`: a callback URL or a web origin (with or
    /// without a trailing slash).
    pub fn allows_return_to(&self, url: &str) -> bool {
        self.callback_urls.iter().any(|c| c == url)
            || self
                .web_origins
                .iter()
                .any(|o| o == url.strip_suffix('/').unwrap_or(url))
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<IdpConfig, String> {
        let args = Args::try_parse_from(std::iter::once("dev-idp").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        IdpConfig::from_args(&args, "0.0.0.0:9100".parse().unwrap())
    }

    #[test]
    fn defaults_and_issuer() {
        let cfg = config(&[]).unwrap();
        assert_eq!(cfg.issuer, "http://127.0.0.1:9100/");
        assert_eq!(cfg.audiences, [DEFAULT_AUDIENCE]);
        assert_eq!(cfg.allowed_scopes, ["read:data", "write:admin"]);
        assert_eq!(cfg.token_ttl_s, DEFAULT_TOKEN_TTL_S);
        assert_eq!(cfg.spa_client_id, "demo-spa");
        let names: Vec<&str> = cfg.users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["reader", "admin"]);
        assert_eq!(cfg.users[1].permissions, ["read:data", "write:admin"]);
        assert_eq!(cfg.userinfo_audience(), "http://127.0.0.1:9100/userinfo");
        assert_eq!(default_issuer("[::]:1".parse().unwrap()), "http://[::1]:1/");
    }

    #[test]
    fn flags_repeat_and_lists_split() {
        let cfg = config(&[
            "--audience",
            "a",
            "--audience=b",
            "--allowed-scopes",
            "x, y  x",
            "--user",
            "ops=deploy",
            "--callback-url",
            "http://127.0.0.1:3000/",
            "--web-origin",
            "http://127.0.0.1:3000",
        ])
        .unwrap();
        assert_eq!(cfg.audiences, ["a", "b"]);
        assert_eq!(cfg.allowed_scopes, ["x", "y"]);
        assert_eq!(
            cfg.users,
            [User {
                name: "ops".into(),
                permissions: vec!["deploy".into()]
            }]
        );
        assert!(cfg.allows_return_to("http://127.0.0.1:3000/"));
        assert!(cfg.allows_return_to("http://127.0.0.1:3000"));
        assert!(!cfg.allows_return_to("http://127.0.0.1:3001/"));
        assert!(!cfg.allows_return_to("http://evil.example/"));
    }

    #[test]
    fn refuses_bad_values() {
        for bad in [
            &["--token-ttl-s", "0"][..],
            &["--issuer", "idp"],
            &["--audience", ""],
            &["--spa-client-id", "demo-client"],
            &["--callback-url", "/callback"],
            &["--web-origin", "http://127.0.0.1:3000/"],
            &["--web-origin", "127.0.0.1:3000"],
            &["--user", "bad name=x"],
            &["--user", "=x"],
            &["--nope", "x"],
            &["--listen"],
        ] {
            assert!(config(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn users_have_auth0_like_subjects() {
        let user = parse_user("reader=read:data").unwrap();
        let sub = user.subject();
        assert!(sub.starts_with("auth0|") && sub.len() == 6 + 24, "{sub}");
        assert_eq!(sub, parse_user("reader").unwrap().subject());
        assert_ne!(sub, parse_user("admin").unwrap().subject());
        assert_eq!(user.email(), "reader@example.com");
        assert_eq!(
            origin_of("https://a.example:8443/cb?x"),
            Some("https://a.example:8443")
        );
        assert_eq!(origin_of("ftp://a"), None);
    }
}
