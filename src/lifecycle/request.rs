//! Reading one request from the host in as few host calls as its configuration allows.
//! A host call that returns a value costs Envoy an allocation call into the VM (callgrind:
//! about 10k instructions for a present header, 2k for an absent one, 11k for the whole
//! header map; docs/src/performance.md), so a request is read in one of two ways, fixed
//! at configuration ([`Plan`]):
//! - *lean* (no rules, tokens only in `Authorization`, no header the filter sets or
//!   strips, no metadata document): `Authorization` and `DPoP` are looked up, nothing
//!   else unless a `DPoP` proof is present;
//! - otherwise one read of the whole header map, which holds everything; inbound copies
//!   of the headers the filter sets are removed only when present.

use super::headers::text;
use crate::authz::Request;
use crate::config::Config;
use crate::sender::dpop::htu::Origin;
use crate::sender::mtls::PeerCertificate;

/// The current request's headers, as the host gives them.
pub trait RequestHost {
    /// The first value of request header `name` (lower case), if present.
    fn header(&mut self, name: &str) -> Option<Vec<u8>>;
    /// The whole request header map in the proxy-wasm map encoding.
    fn headers(&mut self) -> Vec<u8>;
    /// Removes every value of request header `name`.
    fn remove(&mut self, name: &str);
}

/// How requests under one configuration are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Two look-ups instead of the whole map (see the module comment).
    lean: bool,
    /// The headers the filter sets or strips, one name per `-`/`_` spelling class.
    managed: Vec<String>,
    /// The headers the token sources read.
    token_headers: Vec<String>,
    /// Whether a rule lists methods (then method-override headers are read).
    methods_matter: bool,
}

impl Plan {
    /// The plan for `config`.
    pub fn of(config: &Config) -> Plan {
        let mut managed: Vec<String> = Vec::new();
        for name in config.managed_headers() {
            if !managed.iter().any(|m| same_header(m, name)) {
                managed.push(name.to_string());
            }
        }
        let token_headers: Vec<String> = config
            .token_headers()
            .into_iter()
            .map(str::to_string)
            .collect();
        let lean = config.rules.is_empty()
            && config.resource_metadata.is_none()
            && managed.is_empty()
            && token_headers == ["authorization"];
        Plan {
            lean,
            managed,
            token_headers,
            methods_matter: config.rules.iter().any(|r| !r.methods.is_empty()),
        }
    }

    /// Reads the current request from `host`, removing the managed headers it carries.
    pub fn read(&self, config: &Config, host: &mut dyn RequestHost) -> Read {
        if self.lean {
            let authorization = host.header("authorization");
            if host.header("dpop").is_none() {
                let token_headers = authorization
                    .map(|v| vec![("authorization".to_string(), text(v))])
                    .unwrap_or_default();
                return Read {
                    token_headers,
                    ..Read::default()
                };
            }
        }
        self.whole(config, host)
    }

    /// Everything from one read of the header map.
    fn whole(&self, config: &Config, host: &mut dyn RequestHost) -> Read {
        let map = host.headers();
        let mut read = Read::default();
        let (mut scheme, mut authority) = (None, None);
        let mut removed: Vec<&[u8]> = Vec::new();
        for (name, value) in pairs(&map) {
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if self.managed.iter().any(|m| same_header(m, name)) {
                if !removed.contains(&name.as_bytes()) {
                    host.remove(name);
                    removed.push(name.as_bytes());
                }
                continue;
            }
            match name {
                ":method" => read.method = text(value.to_vec()),
                ":path" => read.path = text(value.to_vec()),
                ":scheme" => scheme = Some(text(value.to_vec())),
                ":authority" => authority = Some(text(value.to_vec())),
                "dpop" => read.dpop.push(text(value.to_vec())),
                _ => {}
            }
            if self.token_headers.iter().any(|t| t == name) {
                read.token_headers
                    .push((name.to_string(), text(value.to_vec())));
            }
            if self.methods_matter && config.is_method_override_header(name) {
                read.overrides.push(text(value.to_vec()));
            }
        }
        if !read.dpop.is_empty() {
            read.origin = scheme
                .zip(authority)
                .and_then(|(s, a)| Origin::from_parts(&s, &a));
        }
        read
    }
}

/// Whether two lower-case header names are the same to an upstream (`-` and `_` alike).
pub(crate) fn same_header(a: &str, b: &str) -> bool {
    let sep = |c: u8| matches!(c, b'-' | b'_');
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x.eq_ignore_ascii_case(&y) || (sep(x) && sep(y)))
}

/// What the decision reads from one request, owned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Read {
    /// `:method` (empty when the plan did not need it).
    pub method: String,
    /// `:path` (empty when the plan did not need it).
    pub path: String,
    /// Values of the token sources' headers, in request order.
    pub token_headers: Vec<(String, String)>,
    /// Values of the method-override headers (only when a rule lists methods).
    pub overrides: Vec<String>,
    /// Every `DPoP` header value.
    pub dpop: Vec<String>,
    /// `:scheme` + `:authority`, read only with a `DPoP` proof.
    pub origin: Option<Origin>,
}

/// Borrowed lists of a [`Read`], for a [`Request`].
pub struct Lists<'a> {
    token_headers: Vec<(&'a str, &'a str)>,
    overrides: Vec<&'a str>,
    dpop: Vec<&'a str>,
}

impl Read {
    /// The borrowed lists a [`Request`] points into.
    pub fn lists(&self) -> Lists<'_> {
        Lists {
            token_headers: self
                .token_headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            overrides: self.overrides.iter().map(String::as_str).collect(),
            dpop: self.dpop.iter().map(String::as_str).collect(),
        }
    }

    /// The request as the decision sees it.
    pub fn request<'a>(
        &'a self,
        lists: &'a Lists<'a>,
        peer_certificate: &'a dyn PeerCertificate,
        route: crate::policy::Route<'a>,
    ) -> Request<'a> {
        Request {
            method: &self.method,
            path: &self.path,
            token_headers: &lists.token_headers,
            method_overrides: &lists.overrides,
            dpop: &lists.dpop,
            origin: self.origin.as_ref(),
            peer_certificate,
            route,
        }
    }
}

/// The (name, value) pairs of a header map in the proxy-wasm encoding: a count, each
/// name and value length (u32 little-endian), then each name and value followed by a
/// NUL. A malformed map reads as empty.
pub fn pairs(map: &[u8]) -> Vec<(&[u8], &[u8])> {
    let word = |at: usize| -> Option<usize> {
        let bytes: [u8; 4] = map.get(at..at.checked_add(4)?)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(bytes)).ok()
    };
    let parse = || -> Option<Vec<(&[u8], &[u8])>> {
        let count = word(0)?;
        if count > map.len() / 8 {
            return None;
        }
        let mut out = Vec::with_capacity(count);
        let mut at = count.checked_mul(8)?.checked_add(4)?;
        for i in 0..count {
            let sizes = i.checked_mul(8)?.checked_add(4)?;
            let (n, v) = (word(sizes)?, word(sizes.checked_add(4)?)?);
            let name = map.get(at..at.checked_add(n)?)?;
            at = at.checked_add(n)?.checked_add(1)?;
            let value = map.get(at..at.checked_add(v)?)?;
            at = at.checked_add(v)?.checked_add(1)?;
            out.push((name, value));
        }
        Some(out)
    };
    parse().unwrap_or_default()
}
