//! `spa-server`: serves the demo single-page app (`demo/spa/`) from its own origin, and
//! `/config.json`, which tells the app where the identity provider and the API are.
//!
//! The app is static files plus Auth0's SDK as npm installs it (no build step); this
//! server only adds the settings and a Content-Security-Policy naming the two origins the
//! page may talk to.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use serde::Serialize;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// Command line of `spa-server`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "spa-server",
    about = "Serves the jwt-guard demo SPA and its settings (/config.json)"
)]
pub struct Args {
    /// Address to listen on (the SPA's origin: register it with the IdP).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Directory with index.html, app.js and node_modules/@auth0/auth0-spa-js.
    #[arg(long, default_value = "demo/spa")]
    pub root: PathBuf,
    /// The identity provider's base URL (Auth0: https://YOUR_TENANT.eu.auth0.com).
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    pub domain: String,
    /// The SPA's client id at the identity provider.
    #[arg(long, default_value = "demo-spa")]
    pub client_id: String,
    /// The API identifier tokens are requested for (the access token's aud).
    #[arg(long, default_value = "https://api.example.com")]
    pub audience: String,
    /// The API's base URL (Envoy with jwt-guard).
    #[arg(long, default_value = "http://127.0.0.1:10000")]
    pub api: String,
}

/// What the page reads from `/config.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpaConfig {
    pub domain: String,
    pub client_id: String,
    pub audience: String,
    pub api: String,
}

impl Args {
    /// The page's settings.
    pub fn config(&self) -> SpaConfig {
        SpaConfig {
            domain: self.domain.trim_end_matches('/').to_string(),
            client_id: self.client_id.clone(),
            audience: self.audience.clone(),
            api: self.api.trim_end_matches('/').to_string(),
        }
    }
}

/// The policy: scripts and styles from this origin only; fetches to the IdP and the API;
/// the IdP framed for silent authentication (`response_mode=web_message`).
pub fn content_security_policy(config: &SpaConfig) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' {idp} {api}; frame-src {idp}; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'none'",
        idp = config.domain,
        api = config.api
    )
}

/// The static files and `/config.json`.
pub fn app(args: &Args) -> Router {
    let config = args.config();
    let csp = HeaderValue::from_str(&content_security_policy(&config))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    Router::new()
        .route("/config.json", get(move || async move { Json(config) }))
        .fallback_service(ServeDir::new(&args.root))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn serves_config_and_files_with_a_policy() {
        let args = Args::try_parse_from([
            "spa-server",
            "--root",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/spa"),
            "--domain",
            "http://127.0.0.1:9100/",
            "--api",
            "http://127.0.0.1:10100",
        ])
        .unwrap();
        let response = app(&args)
            .oneshot(Request::get("/config.json").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:9100 http://127.0.0.1:10100"));
        assert!(csp.contains("frame-src http://127.0.0.1:9100;"));
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let config: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            config,
            serde_json::json!({"domain": "http://127.0.0.1:9100", "client_id": "demo-spa",
                               "audience": "https://api.example.com", "api": "http://127.0.0.1:10100"})
        );
        let page = app(&args)
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let missing = app(&args)
            .oneshot(Request::get("/nope.js").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}
