//! `jwt-guard explain`: one request decided natively by the filter's own lifecycle — the
//! configuration parsed by the filter's parser, a [`Worker`] driven through the same
//! entry points the wasm host calls (configure, tick, callout answers, request) against a
//! native [`Host`](jwt_guard::lifecycle::Host) — and the outcome reported: status,
//! `WWW-Authenticate`, the reason as the metric names it, the rule and path reading, the
//! provider and `kid`, the headers the upstream would receive. The token, its signature
//! and every part of them are kept out of the output.

mod host;
pub mod keys;
mod report;
mod request;

pub use report::Explanation;

use crate::find;
use crate::input;
use host::Native;
use jwt_guard::config::Config;
use jwt_guard::lifecycle::{Outcome, Worker};
use jwt_guard::signature::backend::Backend;
use jwt_guard::signature::jwtsimple::JwtSimple;
use keys::Keys;

/// The request id the explained request has on the worker.
const REQUEST_ID: u32 = 1;
/// Most tick-and-answer rounds before giving up on a decision (a discovered provider's
/// round is three callouts; a refetch adds one).
const MAX_ROUNDS: usize = 8;

/// What to explain.
pub struct Inputs {
    /// The configuration file (plugin JSON, or any file `check` reads, holding one).
    pub config: String,
    pub keys: Keys,
    pub method: String,
    pub path: String,
    pub host: Option<String>,
    /// `Name: value` lines.
    pub headers: Vec<String>,
    /// The matched Envoy route's name (`xds.route_name`).
    pub route_name: Option<String>,
    /// The rule the route's metadata names (`filter_metadata.jwt_guard.rule`).
    pub route_rule: Option<String>,
    /// Seconds since the epoch; the system clock when `None`.
    pub now: Option<u64>,
    /// The token (already read from stdin for `-`); `None`: a request without one.
    pub token: Option<String>,
}

/// A usage or configuration error (exit 2).
#[derive(Debug)]
pub struct Unusable(pub String);

/// The configuration bytes of `path`: the one jwt-guard configuration it holds.
pub fn load_config(path: &str) -> Result<(Vec<u8>, String), Unusable> {
    let source = if path == "-" {
        input::Source::Stdin
    } else {
        input::Source::File(path.into())
    };
    let name = source.name();
    let text = source
        .read()
        .map_err(|e| Unusable(format!("{name}: {e}")))?;
    let docs = input::documents(&name, &text).map_err(|e| Unusable(format!("{name}: {e}")))?;
    let mut found: Vec<find::Found> = docs
        .iter()
        .flat_map(|d| find::configurations(&d.value, d.raw.as_deref()))
        .collect();
    found.dedup_by(|a, b| a.bytes == b.bytes);
    match found.len() {
        0 => Err(Unusable(format!(
            "{name}: no jwt-guard configuration found"
        ))),
        1 => Ok(found
            .pop()
            .map(|f| (f.bytes, format!("{name}: {}", f.place)))
            .unwrap_or_default()),
        n => {
            let places: Vec<&str> = found.iter().map(|f| f.place.as_str()).collect();
            Err(Unusable(format!(
                "{name}: {n} different jwt-guard configurations ({}); give a file with one",
                places.join("; ")
            )))
        }
    }
}

fn system_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Answers every callout started so far; returns the request's outcome if it settled.
fn answer_calls(
    worker: &mut Worker,
    host: &mut Native,
    config: &Config,
    keys: &Keys,
    notes: &mut Vec<String>,
) -> Option<Outcome> {
    let mut settled = None;
    while let Some((token, target)) = host.calls.pop_front() {
        let reply = keys.answer(config, &target);
        if !reply.note.is_empty() {
            notes.push(reply.note.clone());
        }
        for (id, outcome) in worker.on_fetch_answer(host, token, reply.answer()) {
            if id == REQUEST_ID {
                settled = Some(outcome);
            }
        }
    }
    settled
}

/// Decides the request and reports it.
pub fn run(inputs: &Inputs) -> Result<(Explanation, Config), Unusable> {
    let (bytes, origin) = load_config(&inputs.config)?;
    let config = Config::parse(&bytes)
        .map_err(|e| Unusable(format!("{origin}: {}: {}", e.field, e.kind)))?;
    // A second parse for the worker: it owns its configuration; this one is for reading.
    let view = Config::parse(&bytes).map_err(|e| Unusable(e.to_string()))?;
    let headers = request::Headers::build(inputs, &view)?;
    let now_ms = inputs
        .now
        .map_or_else(system_now_ms, |s| s.saturating_mul(1000));
    let mut host = Native::at(now_ms);
    let mut notes = Vec::new();
    // Signatures are checked by jwt-simple, the filter's own reference backend (in Envoy,
    // `auto` hands RS*/ES* to BoringSSL; both verify the same signatures).
    let mut worker = Worker::new(config, Backend::JwtSimple(JwtSimple), &mut host);
    // Like Envoy after configuration: the first tick fetches the keys before traffic.
    for _ in 0..MAX_ROUNDS {
        worker.on_tick(&mut host);
        if host.calls.is_empty() {
            break;
        }
        answer_calls(&mut worker, &mut host, &view, &inputs.keys, &mut notes);
    }
    host.reset_counters();
    if let Some(reply) = headers.metadata(&view) {
        let e = Explanation::metadata(reply, &headers, &view, notes);
        return Ok((e, view));
    }
    let parts = headers.parts(&view);
    let mut outcome = parts.with(|req| worker.on_request(&mut host, REQUEST_ID, req));
    for _ in 0..MAX_ROUNDS {
        if outcome != Outcome::Wait {
            break;
        }
        for (id, o) in worker.on_tick(&mut host) {
            if id == REQUEST_ID {
                outcome = o;
            }
        }
        if let Some(o) = answer_calls(&mut worker, &mut host, &view, &inputs.keys, &mut notes) {
            outcome = o;
        }
    }
    if outcome == Outcome::Wait {
        return Err(Unusable(
            "the decision did not settle (keys never arrived)".to_string(),
        ));
    }
    let e = Explanation::new(
        outcome,
        &host.counted,
        &headers,
        &view,
        inputs.token.as_deref(),
        notes,
    );
    Ok((e, view))
}
