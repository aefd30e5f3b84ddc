//! The explained request's headers, read the way the filter's HTTP context reads Envoy's
//! header map: inbound copies of the headers jwt-guard sets are removed first, then the
//! token headers, method overrides, `DPoP` proofs and origin are read with the core's own
//! helpers ([`jwt_guard::lifecycle::headers`]).

use super::{Inputs, Unusable};
use jwt_guard::authz::Request;
use jwt_guard::config::Config;
use jwt_guard::lifecycle::{headers, Plan, Read, RequestHost};
use jwt_guard::reject::Reply;
use jwt_guard::sources::TokenSource;

/// Header names Envoy keeps as one line, joining repeated values with `,` (its inline
/// request headers among those the filter reads).
const JOINED: [&str; 1] = ["authorization"];

/// A request's header map, as Envoy hands it to the filter.
pub struct Headers {
    /// (lower-case name, value) in order; pseudo-headers first.
    pub map: Vec<(String, Vec<u8>)>,
    /// Inbound headers removed because jwt-guard sets them.
    pub stripped: Vec<String>,
    /// The matched Envoy route's name (`xds.route_name`), as `--route-name` gives it.
    pub route_name: Option<String>,
    /// The rule the route's metadata names, as `--route-rule` gives it.
    pub route_rule: Option<String>,
}

/// Splits `Name: value` (a pseudo-header's name keeps its leading `:`).
fn split_header(line: &str) -> Option<(String, String)> {
    let start = usize::from(line.starts_with(':'));
    let colon = line.get(start..)?.find(':')? + start;
    let name = line.get(..colon)?.trim();
    let value = line.get(colon + 1..)?.trim_start_matches([' ', '\t']);
    if name.is_empty() || name.len() <= start {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.to_string()))
}

/// The header line that carries `token` for the configuration's first token source.
fn token_header(config: &Config, token: &str) -> (String, String) {
    match config.token_sources.first() {
        Some(TokenSource::Header {
            name,
            scheme: Some(scheme),
        }) => (name.clone(), format!("{scheme} {token}")),
        Some(TokenSource::Header { name, scheme: None }) => (name.clone(), token.to_string()),
        Some(TokenSource::Cookie { name }) => ("cookie".to_string(), format!("{name}={token}")),
        None => ("authorization".to_string(), format!("Bearer {token}")),
    }
}

impl Headers {
    /// The header map of the request `inputs` describe.
    pub fn build(inputs: &Inputs, config: &Config) -> Result<Headers, Unusable> {
        let mut lines: Vec<(String, String)> = Vec::new();
        for (i, line) in inputs.headers.iter().enumerate() {
            // The line is not echoed: it may carry a credential.
            let pair = split_header(line).ok_or_else(|| {
                Unusable(format!("--header number {}: expected 'Name: value'", i + 1))
            })?;
            lines.push(pair);
        }
        if let Some(token) = &inputs.token {
            lines.push(token_header(config, token));
        }
        let mut map: Vec<(String, Vec<u8>)> = vec![
            (":method".into(), inputs.method.clone().into_bytes()),
            (":path".into(), inputs.path.clone().into_bytes()),
            (
                ":authority".into(),
                inputs
                    .host
                    .clone()
                    .unwrap_or_else(|| "localhost".into())
                    .into_bytes(),
            ),
            (":scheme".into(), b"https".to_vec()),
        ];
        for (name, value) in lines {
            let existing = map.iter_mut().find(|(n, _)| *n == name);
            match existing {
                Some((_, v)) if name.starts_with(':') => *v = value.into_bytes(),
                Some((_, v)) if JOINED.contains(&name.as_str()) => {
                    v.push(b',');
                    v.extend_from_slice(value.as_bytes());
                }
                _ => map.push((name, value.into_bytes())),
            }
        }
        let managed: Vec<&str> = config.managed_headers().collect();
        let mut stripped = Vec::new();
        map.retain(|(name, _)| {
            let ours = managed.contains(&name.as_str());
            if ours && !stripped.contains(name) {
                stripped.push(name.clone());
            }
            !ours
        });
        Ok(Headers {
            map,
            stripped,
            route_name: inputs.route_name.clone(),
            route_rule: inputs.route_rule.clone(),
        })
    }

    /// The first value of `name`, as Envoy's single-header read gives it.
    pub fn get(&self, name: &str) -> Option<String> {
        self.map
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| headers::text(v.clone()))
    }

    /// The protected-resource metadata reply, when the request asks for that document.
    pub fn metadata(&self, config: &Config) -> Option<Reply> {
        let method = self.get(":method").unwrap_or_default();
        let path = self.get(":path").unwrap_or_default();
        config.resource_metadata.as_ref()?.answer(&method, &path)
    }

    /// What the decision reads, gathered as the HTTP context gathers it for `config`
    /// (the filter's own [`Plan`]).
    pub fn parts(&self, config: &Config) -> Parts {
        let mut read = Plan::of(config).read(config, &mut Map(&self.map));
        // The explanation names the method and path even where the filter's plan skips them.
        read.method = self.get(":method").unwrap_or_default();
        read.path = self.get(":path").unwrap_or_default();
        Parts {
            read,
            // As the filter reads them: each only when a rule needs it.
            authority: config
                .route_needs
                .authority
                .then(|| self.get(":authority"))
                .flatten(),
            route_name: config
                .route_needs
                .name
                .then(|| self.route_name.clone())
                .flatten(),
            route_rule: config
                .route_needs
                .rule
                .then(|| self.route_rule.clone())
                .flatten(),
        }
    }
}

/// The request's header map as the filter's host would give it (managed headers are
/// already stripped).
struct Map<'a>(&'a [(String, Vec<u8>)]);

impl RequestHost for Map<'_> {
    fn header(&mut self, name: &str) -> Option<Vec<u8>> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn headers(&mut self) -> Vec<u8> {
        let pairs: Vec<(&str, String)> = self
            .0
            .iter()
            .map(|(n, v)| (n.as_str(), headers::text(v.clone())))
            .collect();
        headers::encode_map(&pairs)
    }

    fn remove(&mut self, _: &str) {}
}

/// The owned parts a [`Request`] borrows: what the filter's plan reads, and the route facts.
pub struct Parts {
    /// What the decision reads, as the filter reads it (method and path always filled).
    pub read: Read,
    /// `:authority`, when a rule has `hosts`.
    pub authority: Option<String>,
    /// The route's name, when a rule has `route_names`.
    pub route_name: Option<String>,
    /// The rule the route's metadata names, when a rule has a `name`.
    pub route_rule: Option<String>,
}

impl Parts {
    /// Calls `f` with the core's view of the request.
    pub fn with<T>(&self, f: impl FnOnce(&Request<'_>) -> T) -> T {
        let lists = self.read.lists();
        f(&self.read.request(
            &lists,
            &jwt_guard::sender::mtls::NO_CERTIFICATE,
            self.route(),
        ))
    }

    /// The route facts: the host, and what `--route-name` / `--route-rule` say Envoy's
    /// route would give.
    pub fn route(&self) -> jwt_guard::policy::Route<'_> {
        jwt_guard::policy::Route {
            authority: self.authority.as_deref(),
            name: self.route_name.as_deref(),
            rule: self.route_rule.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines() {
        assert_eq!(
            split_header("X-Token:  abc: d"),
            Some(("x-token".into(), "abc: d".into()))
        );
        assert_eq!(
            split_header(":scheme: http"),
            Some((":scheme".into(), "http".into()))
        );
        assert_eq!(split_header("novalue"), None);
        assert_eq!(split_header(": x"), None);
        assert_eq!(split_header("::x"), None);
    }
}
