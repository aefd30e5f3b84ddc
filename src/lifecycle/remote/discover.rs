//! Discovered providers: a fetch round of up to three callouts under one lease (OpenID
//! document, RFC 8414 document after a 404, then the keys), the last good `jwks_uri` kept
//! in shared data. What a document leads to is decided here; the provider's
//! [`super::Remote`] acts on it.

use crate::config::Discovered;
use crate::discovery::{Endpoint, Kind, Next, Plan};
use crate::lifecycle::answer::{Answer, FetchError};
use crate::lifecycle::host::{Counter, Host};

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

/// What a discovery document leads to.
pub(super) enum Found {
    /// Fetch the keys at this endpoint.
    Keys(Endpoint),
    /// Fetch this document next.
    Document(Kind),
    /// No endpoint: the round failed.
    Nothing(FetchError),
}

impl Discovery {
    /// The discovery of `discovered`, whose shared records are named after `fetch_record`.
    pub(super) fn new(discovered: &Discovered, fetch_record: &str) -> Discovery {
        let base = fetch_record.strip_suffix(".fetch");
        Discovery {
            plan: discovered.plan.clone(),
            cluster: discovered.discovery_cluster.clone(),
            record: format!("{}.jwks_uri", base.unwrap_or(fetch_record)),
            fetching: None,
        }
    }

    /// Reads a discovery document of provider `index` (`name`): the keys it names, the
    /// RFC 8414 document after a 404, or the last good document's keys when this one is
    /// unusable.
    pub(super) fn on_document(
        &self,
        host: &mut dyn Host,
        (index, name): (usize, &str),
        kind: Kind,
        answer: Answer<'_>,
    ) -> Found {
        let status = answer.status.map(u32::from);
        let record = &self.record;
        match self
            .plan
            .on_answer(kind, status, answer.body_size, answer.read_body)
        {
            Next::Use(doc) => {
                host.count(Counter::DiscoverySuccess(index), 1);
                let known = host.shared_get(record).map(|(uri, _)| uri);
                if known.as_deref() != Some(doc.jwks.url.as_bytes()) {
                    log::info!("provider {name}: discovered jwks_uri {}", doc.jwks.url);
                    if let Err(e) = host.shared_set(record, doc.jwks.url.as_bytes(), 0) {
                        log::warn!("provider {name}: cannot share the jwks_uri: {e:?}");
                    }
                }
                Found::Keys(doc.jwks)
            }
            Next::Try(next) => Found::Document(next),
            Next::Fail(why) => {
                host.count(Counter::DiscoveryFailure(index), 1);
                let last = host
                    .shared_get(record)
                    .and_then(|(uri, _)| String::from_utf8(uri).ok())
                    .and_then(|uri| Endpoint::parse(&uri).ok());
                match last {
                    Some(jwks) => {
                        log::warn!(
                            "discovery for provider {name} failed: {why}; keeping the last good document ({})",
                            jwks.url
                        );
                        Found::Keys(jwks)
                    }
                    None => {
                        log::warn!("discovery for provider {name} failed: {why}");
                        Found::Nothing(FetchError::Discovery(why))
                    }
                }
            }
        }
    }
}
