//! A fake proxy for the lifecycle: a clock and shared data common to several workers,
//! recorded callouts and metrics, request headers and a client certificate, and a count
//! of every host call.

use crate::config::{Config, RemoteJwks};
use crate::lifecycle::headers::encode_map;
use crate::lifecycle::{Answer, Counter, Gauge, Host, RequestHost, Worker};
use crate::sender::mtls::PeerCertificate;
use crate::shared::{SharedData, SharedError};
use crate::signature::backend::Backend;
use crate::signature::jwtsimple::JwtSimple;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// Shared data of one process: key -> (value, CAS version).
#[derive(Default)]
pub struct Store {
    data: HashMap<String, (Vec<u8>, u32)>,
    version: u32,
}

/// One process: a clock and shared data.
#[derive(Clone, Default)]
pub struct Process {
    pub clock: Rc<Cell<u64>>,
    pub store: Rc<RefCell<Store>>,
}

impl Process {
    pub fn at(ms: u64) -> Process {
        let p = Process::default();
        p.clock.set(ms);
        p
    }

    pub fn advance(&self, ms: u64) {
        self.clock.set(self.clock.get() + ms);
    }

    /// A worker of this process with its own fake host.
    pub fn worker(&self, config: &str) -> (Worker, Fake) {
        let mut host = Fake {
            process: self.clone(),
            next_token: 0,
            calls: vec![],
            counters: HashMap::new(),
            gauges: HashMap::new(),
            reads: RefCell::default(),
            random: 0,
            host_calls: RefCell::default(),
        };
        let config = Config::parse(config.as_bytes()).unwrap();
        let worker = Worker::new(config, Backend::JwtSimple(JwtSimple), &mut host);
        (worker, host)
    }
}

/// One worker's view of the proxy.
pub struct Fake {
    pub process: Process,
    next_token: u32,
    /// Callouts started: (token, uri, time).
    pub calls: Vec<(u32, String, u64)>,
    pub counters: HashMap<Counter, u64>,
    pub gauges: HashMap<Gauge, u64>,
    /// Shared-data reads per key suffix (`keys`, `fetch`).
    pub reads: RefCell<HashMap<String, u32>>,
    pub random: u64,
    /// Every call of a [`Host`] method, by name.
    pub host_calls: RefCell<Vec<&'static str>>,
}

impl Fake {
    pub fn count(&self, c: Counter) -> u64 {
        self.counters.get(&c).copied().unwrap_or(0)
    }

    pub fn key_reads(&self) -> u32 {
        self.reads.borrow().get("keys").copied().unwrap_or(0)
    }

    /// The token of the last callout.
    pub fn last_call(&self) -> u32 {
        self.calls.last().expect("a callout").0
    }
}

/// An answer with this status, body and optional `Retry-After`.
pub fn answer(status: Option<u16>, body: &str, retry_after: Option<&str>) -> Answer<'static> {
    let body = body.as_bytes().to_vec();
    Answer {
        status,
        retry_after: retry_after.map(str::to_string),
        body_size: body.len(),
        read_body: Box::new(move || Some(body)),
    }
}

impl SharedData for Fake {
    fn shared_get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        self.host_calls.borrow_mut().push("shared_get");
        let suffix = key.rsplit('.').next().unwrap().to_string();
        *self.reads.borrow_mut().entry(suffix).or_default() += 1;
        self.process.store.borrow().data.get(key).cloned()
    }

    fn shared_set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedError> {
        self.host_calls.borrow_mut().push("shared_set");
        let mut store = self.process.store.borrow_mut();
        let current = store.data.get(key).map_or(0, |(_, v)| *v);
        if cas != 0 && cas != current {
            return Err(SharedError::CasMismatch);
        }
        store.version += 1;
        let version = store.version;
        store
            .data
            .insert(key.to_string(), (value.to_vec(), version));
        Ok(())
    }
}

impl Host for Fake {
    fn now_ms(&self) -> u64 {
        self.host_calls.borrow_mut().push("now_ms");
        self.process.clock.get()
    }

    fn random(&mut self) -> u64 {
        self.host_calls.borrow_mut().push("random");
        self.random
    }

    fn dispatch(&mut self, jwks: &RemoteJwks, _timeout_ms: u64) -> Result<u32, String> {
        self.host_calls.borrow_mut().push("dispatch");
        self.next_token += 1;
        self.calls
            .push((self.next_token, jwks.uri.clone(), self.now_ms()));
        Ok(self.next_token)
    }

    fn count(&mut self, counter: Counter, n: u64) {
        self.host_calls.borrow_mut().push("count");
        *self.counters.entry(counter).or_default() += n;
    }

    fn gauge(&mut self, gauge: Gauge, value: u64) {
        self.host_calls.borrow_mut().push("gauge");
        self.gauges.insert(gauge, value);
    }
}

/// One request's headers as the host gives them, every host call counted.
#[derive(Default)]
pub struct Headers {
    pub map: Vec<(String, String)>,
    pub calls: u32,
    pub removed: Vec<String>,
}

impl Headers {
    pub fn of(pairs: &[(&str, &str)]) -> Headers {
        Headers {
            map: pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Headers::default()
        }
    }
}

impl RequestHost for Headers {
    fn header(&mut self, name: &str) -> Option<Vec<u8>> {
        self.calls += 1;
        let found = self.map.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.clone().into_bytes())
    }

    fn headers(&mut self) -> Vec<u8> {
        self.calls += 1;
        let map: Vec<(&str, String)> = self
            .map
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        encode_map(&map)
    }

    fn remove(&mut self, name: &str) {
        self.calls += 1;
        self.map.retain(|(n, _)| n != name);
        self.removed.push(name.to_string());
    }
}

/// A connection's client certificate, its reads counted.
#[derive(Debug, Default)]
pub struct Certificate {
    pub digest: Option<String>,
    pub reads: Cell<u32>,
}

impl PeerCertificate for Certificate {
    fn digest(&self) -> Option<&str> {
        self.reads.set(self.reads.get() + 1);
        self.digest.as_deref()
    }
}
