//! Answers to the lifecycle's callouts: from `--jwks` files (a discovered provider gets a
//! synthetic discovery document pointing at its file), from the network (`--fetch`), or,
//! with neither, no answer (what Envoy sees when a JWKS cluster is unreachable).

use crate::fetch;
use jwt_guard::config::{Config, KeySource, RemoteJwks};
use jwt_guard::lifecycle::Answer;
use serde_json::json;
use std::collections::HashMap;

/// Where keys come from.
pub enum Keys {
    /// No source: every callout goes unanswered.
    Nothing,
    /// Files: one for every provider (`all`), or per provider name.
    Files {
        all: Option<Vec<u8>>,
        named: HashMap<String, Vec<u8>>,
    },
    /// The providers' own URLs.
    Fetch,
}

/// A callout answer as data (turned into the lifecycle's [`Answer`] by [`Reply::answer`]).
pub struct Reply {
    pub status: Option<u16>,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
    /// What happened, for the report.
    pub note: String,
}

impl Reply {
    fn none(note: String) -> Reply {
        Reply {
            status: None,
            retry_after: None,
            body: Vec::new(),
            note,
        }
    }

    fn ok(body: Vec<u8>, note: String) -> Reply {
        Reply {
            status: Some(200),
            retry_after: None,
            body,
            note,
        }
    }

    /// The lifecycle's view of this reply.
    pub fn answer(&self) -> Answer<'_> {
        let body = self.body.clone();
        Answer {
            status: self.status,
            retry_after: self.retry_after.clone(),
            body_size: self.body.len(),
            read_body: Box::new(move || Some(body)),
        }
    }
}

/// The JWKS URL a synthetic discovery document names for a discovered provider.
fn synthetic_jwks_uri(openid_url: &str) -> String {
    openid_url.replace(
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    )
}

impl Keys {
    /// The answer to a callout for `target`.
    pub fn answer(&self, config: &Config, target: &RemoteJwks) -> Reply {
        match self {
            Keys::Nothing => Reply::none(format!(
                "{}: not fetched (give --jwks or --fetch); answered as a failed fetch",
                target.uri
            )),
            Keys::Fetch => match fetch::get(&target.uri) {
                Ok(r) => {
                    let note = format!("GET {}: {}, {} bytes", target.uri, r.status, r.body.len());
                    Reply {
                        status: Some(r.status),
                        retry_after: r.retry_after,
                        body: r.body,
                        note,
                    }
                }
                Err(why) => Reply::none(format!("GET {why}")),
            },
            Keys::Files { all, named } => {
                for p in &config.providers {
                    let file = named.get(&p.name).or(all.as_ref());
                    match &p.keys {
                        KeySource::Remote(r) if r.uri == target.uri => {
                            return match file {
                                Some(body) => Reply::ok(
                                    body.clone(),
                                    format!("provider {}: keys from the --jwks file", p.name),
                                ),
                                None => Reply::none(format!(
                                    "provider {}: no --jwks file for it; answered as a failed fetch",
                                    p.name
                                )),
                            };
                        }
                        KeySource::Discovered(d) => {
                            let uri = synthetic_jwks_uri(&d.plan.openid.url);
                            if target.uri == d.plan.openid.url {
                                let doc = json!({"issuer": d.plan.issuer, "jwks_uri": uri});
                                return Reply::ok(
                                    doc.to_string().into_bytes(),
                                    format!(
                                        "provider {}: discovery answered with the --jwks file",
                                        p.name
                                    ),
                                );
                            }
                            if target.uri == uri {
                                return match file {
                                    Some(body) => Reply::ok(body.clone(), String::new()),
                                    None => Reply::none(format!(
                                        "provider {}: no --jwks file for it; answered as a failed fetch",
                                        p.name
                                    )),
                                };
                            }
                        }
                        _ => {}
                    }
                }
                Reply::none(format!("{}: no --jwks file for it", target.uri))
            }
        }
    }
}
