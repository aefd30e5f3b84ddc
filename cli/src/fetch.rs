//! HTTP(S) GET for JWKS and discovery documents: rustls with the Mozilla roots compiled
//! in, or only the certificates of the PEM file `SSL_CERT_FILE` names (a private CA).

use std::time::Duration;
use ureq::tls::{parse_pem, PemItem, RootCerts, TlsConfig};

/// Largest body read (the filter itself refuses a JWKS or document over 256 KiB).
pub const MAX_BODY_BYTES: u64 = 1 << 20;
/// Whole-request timeout.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// The trusted roots: `SSL_CERT_FILE`'s certificates when set, else Mozilla's.
fn roots() -> Result<RootCerts, String> {
    let Some(path) = std::env::var_os("SSL_CERT_FILE") else {
        return Ok(RootCerts::WebPki);
    };
    let pem = std::fs::read(&path)
        .map_err(|e| format!("SSL_CERT_FILE {}: {e}", path.to_string_lossy()))?;
    let certs: Vec<_> = parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(format!(
            "SSL_CERT_FILE {}: no certificate in it",
            path.to_string_lossy()
        ));
    }
    Ok(RootCerts::new_with_certs(&certs))
}

/// GETs `url` (https, or http for a plain-text endpoint the configuration names).
pub fn get(url: &str) -> Result<Response, String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("{url}: not an http(s) URL"));
    }
    let tls = TlsConfig::builder().root_certs(roots()?).build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .tls_config(tls)
        .user_agent("jwt-guard")
        .build()
        .into();
    let mut response = agent
        .get(url)
        .header("accept", "application/json")
        .call()
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(Response {
        status,
        retry_after,
        body,
    })
}
