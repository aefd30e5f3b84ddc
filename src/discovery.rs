//! OIDC discovery (OpenID Connect Discovery 1.0 §4) with RFC 8414's authorization-server
//! metadata as fallback: which document to fetch, what a 404 means, and the `jwks_uri` of a
//! document whose `issuer` is exactly the configured one (mix-up protection, §4.3).

use crate::json;
use serde_json::Value;
use std::fmt;

/// Largest discovery document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// An absolute `http(s)` URL split the way a callout needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The whole URL.
    pub url: String,
    /// `host[:port]`, the callout's `:authority`.
    pub authority: String,
    /// The path and query, the callout's `:path` (at least `/`).
    pub path: String,
}

impl Endpoint {
    /// Splits an absolute `https://` or `http://` URL; refuses userinfo, fragments and
    /// control characters.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or("must start with https:// or http://")?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.is_empty()
            || authority.contains(['@', '#', '\\'])
            || authority.bytes().any(|b| b <= b' ' || b >= 0x7f)
        {
            return Err("invalid host".into());
        }
        if path.contains('#') || path.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err("invalid path".into());
        }
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        Ok(Endpoint {
            url: url.to_string(),
            authority: authority.to_string(),
            path,
        })
    }
}

/// Which well-known document an attempt fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `{issuer}/.well-known/openid-configuration`, tried first.
    OpenId,
    /// RFC 8414 `/.well-known/oauth-authorization-server{issuer path}`, tried after a 404.
    OAuth,
}

/// The two discovery URLs of one issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The configured issuer, which the document must repeat exactly.
    pub issuer: String,
    /// OpenID Connect Discovery §4: any terminating `/` of the issuer removed, then
    /// `/.well-known/openid-configuration` appended.
    pub openid: Endpoint,
    /// RFC 8414 §3.1: the well-known segment inserted between host and path.
    pub oauth: Endpoint,
}

impl Plan {
    /// The plan for `issuer`, which must be an `http(s)` URL without query or fragment.
    pub fn new(issuer: &str) -> Result<Plan, String> {
        let base = Endpoint::parse(issuer)?;
        if base.path.contains('?') {
            return Err("an issuer used for discovery has no query".into());
        }
        let scheme = if issuer.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        let path = base.path.trim_end_matches('/');
        let openid = format!(
            "{scheme}://{}{path}/.well-known/openid-configuration",
            base.authority
        );
        let oauth = format!(
            "{scheme}://{}/.well-known/oauth-authorization-server{path}",
            base.authority
        );
        Ok(Plan {
            issuer: issuer.to_string(),
            openid: Endpoint::parse(&openid)?,
            oauth: Endpoint::parse(&oauth)?,
        })
    }

    /// The endpoint an attempt of `kind` fetches.
    pub fn endpoint(&self, kind: Kind) -> &Endpoint {
        match kind {
            Kind::OpenId => &self.openid,
            Kind::OAuth => &self.oauth,
        }
    }

    /// What a callout's answer means, as the host has it: no response (`None`), or a
    /// status and a body of `body_size` bytes that `read_body` copies out only when wanted.
    pub fn on_answer(
        &self,
        kind: Kind,
        status: Option<u32>,
        body_size: usize,
        read_body: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Next {
        match status {
            None => Next::Fail(DiscoveryError::NoResponse),
            Some(200) if body_size > MAX_DOCUMENT_BYTES => Next::Fail(DiscoveryError::TooLarge),
            Some(200) => self.on_response(kind, 200, &read_body().unwrap_or_default()),
            Some(code) => self.on_response(kind, code, &[]),
        }
    }

    /// What the answer to an attempt of `kind` means: a document to use, the fallback to
    /// try next (a 404 for the OpenID document), or a failure.
    pub fn on_response(&self, kind: Kind, status: u32, body: &[u8]) -> Next {
        match (status, kind) {
            (200, _) => match Document::parse(body, &self.issuer) {
                Ok(doc) => Next::Use(doc),
                Err(e) => Next::Fail(e),
            },
            (404, Kind::OpenId) => Next::Try(Kind::OAuth),
            (404, Kind::OAuth) => Next::Fail(DiscoveryError::NotFound),
            (status, _) => Next::Fail(DiscoveryError::Status(status)),
        }
    }
}

/// The consequence of one discovery answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A valid document: fetch its `jwks_uri`.
    Use(Document),
    /// Try this document next (no backoff: the first was simply absent).
    Try(Kind),
    /// Discovery failed this round; keep the last good document and retry later.
    Fail(DiscoveryError),
}

/// The parts of a discovery document jwt-guard uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The issuer the document names (equal to the configured one).
    pub issuer: String,
    /// Where the issuer's signing keys are published.
    pub jwks: Endpoint,
}

/// Why a discovery round failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryError {
    /// No response (timeout or connection failure).
    NoResponse,
    /// Neither well-known document exists (404 twice).
    NotFound,
    /// Another HTTP status.
    Status(u32),
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    TooLarge,
    /// Not a JSON object (or one with duplicate keys).
    NotJson,
    /// The document's `issuer` is not the configured issuer: possibly a mix-up attack.
    IssuerMismatch,
    /// No usable `jwks_uri`.
    JwksUri(String),
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryError::NoResponse => {
                write!(f, "no response (timeout or connection failure)")
            }
            DiscoveryError::NotFound => write!(
                f,
                "no openid-configuration or oauth-authorization-server document (404)"
            ),
            DiscoveryError::Status(s) => write!(f, "HTTP status {s}"),
            DiscoveryError::TooLarge => {
                write!(f, "document larger than {MAX_DOCUMENT_BYTES} bytes")
            }
            DiscoveryError::NotJson => write!(f, "document is not a JSON object"),
            DiscoveryError::IssuerMismatch => write!(
                f,
                "document's issuer differs from the configured issuer (refused: mix-up protection)"
            ),
            DiscoveryError::JwksUri(why) => write!(f, "jwks_uri {why}"),
        }
    }
}

impl Document {
    /// Parses a discovery document and checks its `issuer` equals `expected_issuer` exactly.
    pub fn parse(body: &[u8], expected_issuer: &str) -> Result<Document, DiscoveryError> {
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(DiscoveryError::TooLarge);
        }
        let doc = json::parse_object(body).map_err(|_| DiscoveryError::NotJson)?;
        match doc.get("issuer") {
            Some(Value::String(issuer)) if issuer == expected_issuer => {}
            _ => return Err(DiscoveryError::IssuerMismatch),
        }
        let uri = match doc.get("jwks_uri") {
            Some(Value::String(uri)) => uri,
            Some(_) => return Err(DiscoveryError::JwksUri("is not a string".into())),
            None => return Err(DiscoveryError::JwksUri("is missing".into())),
        };
        let jwks = Endpoint::parse(uri).map_err(DiscoveryError::JwksUri)?;
        Ok(Document {
            issuer: expected_issuer.to_string(),
            jwks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_both_specifications() {
        let auth0 = Plan::new("https://tenant.eu.auth0.com/").unwrap();
        assert_eq!(
            auth0.openid.url,
            "https://tenant.eu.auth0.com/.well-known/openid-configuration"
        );
        assert_eq!(
            auth0.oauth.url,
            "https://tenant.eu.auth0.com/.well-known/oauth-authorization-server"
        );
        assert_eq!(auth0.openid.authority, "tenant.eu.auth0.com");
        assert_eq!(auth0.openid.path, "/.well-known/openid-configuration");
        let keycloak = Plan::new("http://127.0.0.1:8080/realms/prod").unwrap();
        assert_eq!(
            keycloak.openid.path,
            "/realms/prod/.well-known/openid-configuration"
        );
        assert_eq!(
            keycloak.oauth.path,
            "/.well-known/oauth-authorization-server/realms/prod"
        );
        assert_eq!(keycloak.endpoint(Kind::OAuth).authority, "127.0.0.1:8080");
        let okta = Plan::new("https://example.okta.com/oauth2/default/").unwrap();
        assert_eq!(
            okta.openid.path,
            "/oauth2/default/.well-known/openid-configuration"
        );
        assert_eq!(
            okta.oauth.path,
            "/.well-known/oauth-authorization-server/oauth2/default"
        );
        for bad in [
            "tenant.auth0.com",
            "https://",
            "https://a b/",
            "https://u@h/",
            "https://h/?q",
        ] {
            assert!(Plan::new(bad).is_err(), "{bad}");
        }
    }

    const ISSUER: &str = "https://tenant.example.com/";

    fn doc(issuer: &str, jwks_uri: &str) -> Vec<u8> {
        serde_json::json!({"issuer": issuer, "jwks_uri": jwks_uri, "token_endpoint": "x"})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn a_document_names_the_keys_of_exactly_its_issuer() {
        let plan = Plan::new(ISSUER).unwrap();
        let body = doc(ISSUER, "https://keys.example.com/oauth/jwks?v=2");
        let Next::Use(d) = plan.on_response(Kind::OpenId, 200, &body) else {
            panic!("document not used")
        };
        assert_eq!(d.jwks.authority, "keys.example.com");
        assert_eq!(d.jwks.path, "/oauth/jwks?v=2");
        // Mix-up protection: anything but the exact configured issuer is refused.
        for other in [
            "https://tenant.example.com",
            "https://TENANT.example.com/",
            "https://evil.example/",
        ] {
            assert_eq!(
                plan.on_response(Kind::OpenId, 200, &doc(other, "https://k/j")),
                Next::Fail(DiscoveryError::IssuerMismatch),
                "{other}"
            );
        }
        let no_issuer = br#"{"jwks_uri":"https://k/j"}"#;
        assert_eq!(
            Document::parse(no_issuer, ISSUER),
            Err(DiscoveryError::IssuerMismatch)
        );
    }

    #[test]
    fn a_404_falls_back_to_rfc8414_once() {
        let plan = Plan::new(ISSUER).unwrap();
        assert_eq!(
            plan.on_response(Kind::OpenId, 404, b""),
            Next::Try(Kind::OAuth)
        );
        assert_eq!(
            plan.on_response(Kind::OAuth, 404, b""),
            Next::Fail(DiscoveryError::NotFound)
        );
        assert!(matches!(
            plan.on_response(Kind::OAuth, 200, &doc(ISSUER, "https://k/jwks")),
            Next::Use(_)
        ));
        for status in [500, 503, 429, 403, 301] {
            assert_eq!(
                plan.on_response(Kind::OpenId, status, b""),
                Next::Fail(DiscoveryError::Status(status))
            );
        }
    }

    #[test]
    fn answers_as_the_host_has_them() {
        let plan = Plan::new(ISSUER).unwrap();
        let unread = || -> Option<Vec<u8>> { panic!("body read when not wanted") };
        assert_eq!(
            plan.on_answer(Kind::OpenId, None, 0, unread),
            Next::Fail(DiscoveryError::NoResponse)
        );
        assert_eq!(
            plan.on_answer(Kind::OpenId, Some(200), MAX_DOCUMENT_BYTES + 1, unread),
            Next::Fail(DiscoveryError::TooLarge)
        );
        assert_eq!(
            plan.on_answer(Kind::OpenId, Some(404), 10, unread),
            Next::Try(Kind::OAuth)
        );
        let body = doc(ISSUER, "https://k/jwks");
        assert!(matches!(
            plan.on_answer(Kind::OAuth, Some(200), body.len(), || Some(body.clone())),
            Next::Use(_)
        ));
        assert_eq!(
            plan.on_answer(Kind::OpenId, Some(200), 0, || None),
            Next::Fail(DiscoveryError::NotJson)
        );
    }

    #[test]
    fn broken_documents_are_refused_with_a_reason() {
        let duplicate =
            format!(r#"{{"issuer":"https://evil/","issuer":"{ISSUER}","jwks_uri":"https://k/j"}}"#);
        let huge = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        let cases: [(&[u8], DiscoveryError); 7] = [
            (b"<html>", DiscoveryError::NotJson),
            (b"[]", DiscoveryError::NotJson),
            (duplicate.as_bytes(), DiscoveryError::NotJson),
            (&huge, DiscoveryError::TooLarge),
            (
                br#"{"issuer":"https://tenant.example.com/"}"#,
                DiscoveryError::JwksUri("is missing".into()),
            ),
            (
                br#"{"issuer":"https://tenant.example.com/","jwks_uri":7}"#,
                DiscoveryError::JwksUri("is not a string".into()),
            ),
            (
                br#"{"issuer":"https://tenant.example.com/","jwks_uri":"file:///etc/keys"}"#,
                DiscoveryError::JwksUri("must start with https:// or http://".into()),
            ),
        ];
        for (body, expected) in cases {
            let got = Document::parse(body, ISSUER).unwrap_err();
            assert!(!got.to_string().is_empty());
            assert_eq!(got, expected);
        }
    }
}
