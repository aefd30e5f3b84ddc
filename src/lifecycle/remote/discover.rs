//! Discovered providers: a fetch round of up to three callouts under one lease (OpenID
//! document, RFC 8414 document after a 404, then the keys), the last good `jwks_uri` kept
//! in shared data.

use super::{FetchError, Remote};
use crate::config::{Discovered, Provider, RemoteJwks};
use crate::discovery::{Endpoint, Kind, Next, Plan};
use crate::lifecycle::answer::Answer;
use crate::lifecycle::{Counter, Host};

/// How a discovered provider finds its JWKS.
pub(super) struct Discovery {
    pub(super) plan: Plan,
    /// Cluster for the documents.
    pub(super) cluster: String,
    /// Shared record: the `jwks_uri` of the last good document.
    pub(super) record: String,
    /// The document this worker's callout fetches (`None`: it fetches keys).
    pub(super) fetching: Option<Kind>,
}

impl Remote {
    /// The state of discovered provider `index`; its records are named after its issuer
    /// and the discovery URL.
    pub fn discovered(index: usize, provider: &Provider, discovered: &Discovered) -> Remote {
        let openid = &discovered.plan.openid;
        // Not fetched before a document names the real endpoint.
        let unknown = RemoteJwks {
            cluster: discovered.jwks_cluster.clone(),
            uri: openid.url.clone(),
            authority: openid.authority.clone(),
            path: openid.path.clone(),
        };
        let mut remote = Remote::new(index, provider, &unknown);
        let base = remote.fetch_record.strip_suffix(".fetch");
        let record = format!("{}.jwks_uri", base.unwrap_or(&remote.fetch_record));
        remote.discovery = Some(Discovery {
            plan: discovered.plan.clone(),
            cluster: discovered.discovery_cluster.clone(),
            record,
            fetching: None,
        });
        remote
    }

    /// The next callout of a round that has more than one: renews the shared lease first.
    pub(super) fn fetch_next(&mut self, host: &mut dyn Host, document: Option<Kind>) {
        let (now, timeout_ms) = (host.now_ms(), self.timeout_ms);
        self.update(host, |s| {
            s.claim(now, timeout_ms, false);
            true
        });
        self.fetch(host, document);
    }

    /// Handles a discovery document: fetch the keys it names, the RFC 8414 document after
    /// a 404, or the last good document's keys when this one is unusable.
    pub(super) fn on_document(&mut self, host: &mut dyn Host, kind: Kind, answer: Answer<'_>) {
        let retry_after_ms = answer.retry_after_ms();
        let Some(d) = &self.discovery else {
            return;
        };
        let status = answer.status.map(u32::from);
        let record = d.record.clone();
        match d
            .plan
            .on_answer(kind, status, answer.body_size, answer.read_body)
        {
            Next::Use(doc) => {
                host.count(Counter::DiscoverySuccess(self.index), 1);
                let known = host.shared_get(&record).map(|(uri, _)| uri);
                if known.as_deref() != Some(doc.jwks.url.as_bytes()) {
                    log::info!(
                        "provider {}: discovered jwks_uri {}",
                        self.name,
                        doc.jwks.url
                    );
                    if let Err(e) = host.shared_set(&record, doc.jwks.url.as_bytes(), 0) {
                        log::warn!("provider {}: cannot share the jwks_uri: {e:?}", self.name);
                    }
                }
                self.use_endpoint(doc.jwks);
                self.fetch_next(host, None);
            }
            Next::Try(next) => self.fetch_next(host, Some(next)),
            Next::Fail(why) => {
                host.count(Counter::DiscoveryFailure(self.index), 1);
                let last = host
                    .shared_get(&record)
                    .and_then(|(uri, _)| String::from_utf8(uri).ok())
                    .and_then(|uri| Endpoint::parse(&uri).ok());
                match last {
                    Some(jwks) => {
                        log::warn!(
                            "discovery for provider {} failed: {why}; keeping the last good document ({})",
                            self.name,
                            jwks.url
                        );
                        self.use_endpoint(jwks);
                        self.fetch_next(host, None);
                    }
                    None => {
                        log::warn!("discovery for provider {} failed: {why}", self.name);
                        self.failed(host, &FetchError::Discovery(why), retry_after_ms);
                    }
                }
            }
        }
    }

    /// Fetches keys from `jwks` (a discovery document's `jwks_uri`) from now on.
    fn use_endpoint(&mut self, jwks: Endpoint) {
        self.jwks.uri = jwks.url;
        self.jwks.authority = jwks.authority;
        self.jwks.path = jwks.path;
    }
}
