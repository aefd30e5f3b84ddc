//! The provider lifecycle against a fake proxy: cold start, rotation, outage, backoff,
//! staleness, workers racing for the lease, and requests held across workers.

mod calls;
mod discovery;
pub mod fake;
mod refetch;
mod request;

use super::{Answer, Counter, Outcome, Worker, BUSY_TICK_MS, IDLE_TICK_MS};
use crate::authz::Request;
use crate::reject::{Denial, Reason};
use crate::testkeys::{jwks, rsa_jwk, sign_rs256};
use crate::token::TokenError;
use fake::{answer, Fake, Process};

pub const T0: u64 = 1_800_000_000_000;

fn config(extra: &str) -> String {
    format!(
        r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],
            "jwks_cluster":"c","refresh_interval_s":600,"refetch_cooldown_s":30,
            "jwks_timeout_ms":1000{extra}}}]}}"#
    )
}

fn token(kid: &str, now_ms: u64) -> String {
    let claims = format!(
        r#"{{"iss":"https://t/","aud":"api","exp":{},"sub":"u"}}"#,
        now_ms / 1000 + 100_000_000
    );
    format!("Bearer {}", sign_rs256(kid, &claims))
}

fn set(kids: &[&str]) -> String {
    jwks(&kids.iter().map(|k| rsa_jwk(k, true)).collect::<Vec<_>>())
}

/// A `GET /api` carrying these token headers and nothing else.
fn get<'a>(token_headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
    Request {
        method: "GET",
        path: "/api",
        token_headers,
        method_overrides: &[],
        dpop: &[],
        origin: None,
        peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
        route: Default::default(),
    }
}

fn send(worker: &mut Worker, host: &mut Fake, id: u32, kid: &str) -> Outcome {
    let auth = token(kid, host.process.clock.get());
    let token_headers = [("authorization", auth.as_str())];
    worker.on_request(host, id, &get(&token_headers))
}

/// Answers the worker's last callout.
fn last(w: &mut Worker, h: &mut Fake, a: Answer<'static>) -> Vec<(u32, Outcome)> {
    let token = h.last_call();
    w.on_fetch_answer(h, token, a)
}

fn allowed(o: &Outcome) -> bool {
    matches!(o, Outcome::Continue(_))
}

/// A worker whose first fetch brought `kids`.
fn loaded(process: &Process, kids: &[&str]) -> (Worker, Fake) {
    let (mut w, mut h) = process.worker(&config(""));
    w.on_tick(&mut h);
    let token = h.last_call();
    w.on_fetch_answer(&mut h, token, answer(Some(200), &set(kids), None));
    (w, h)
}

#[test]
fn cold_start_holds_requests_until_the_first_fetch() {
    let process = Process::at(T0);
    let (mut w, mut h) = process.worker(&config(""));
    assert_eq!(w.retune(T0), Some(BUSY_TICK_MS), "a fetch is due at once");
    assert_eq!(send(&mut w, &mut h, 7, "k1"), Outcome::Wait);
    assert_eq!(w.retune(T0), None, "still busy");
    assert!(w.on_tick(&mut h).is_empty());
    assert_eq!(h.calls.len(), 1);
    let token = h.last_call();
    process.advance(50);
    let settled = w.on_fetch_answer(&mut h, token, answer(Some(200), &set(&["k1"]), None));
    assert_eq!(settled.len(), 1);
    assert!(allowed(&settled[0].1));
    assert_eq!(h.count(Counter::FetchSuccess(0)), 1);
    assert_eq!(h.count(Counter::Allowed), 1);
    assert_eq!(w.retune(process.clock.get()), Some(IDLE_TICK_MS));
    assert!(allowed(&send(&mut w, &mut h, 8, "k1")));
    assert_eq!(h.calls.len(), 1, "no fetch per request");
}

#[test]
fn cold_start_outage_answers_503_with_retry_after_then_recovers() {
    let process = Process::at(T0);
    let (mut w, mut h) = process.worker(&config(""));
    assert_eq!(send(&mut w, &mut h, 1, "k1"), Outcome::Wait);
    w.on_tick(&mut h);
    let settled = last(&mut w, &mut h, answer(None, "", None));
    let unavailable = Outcome::Reply(Denial::KeysUnavailable { retry_after_s: 1 });
    assert_eq!(settled, vec![(1, unavailable)]);
    assert_eq!(h.count(Counter::FetchFailure(0)), 1);
    // Within the backoff, requests are answered at once, not held.
    let again = send(&mut w, &mut h, 2, "k1");
    assert_eq!(
        again,
        Outcome::Reply(Denial::KeysUnavailable { retry_after_s: 1 })
    );
    assert_eq!(h.count(Counter::Denied(Reason::KeysUnavailable)), 2);
    process.advance(1_000);
    assert_eq!(send(&mut w, &mut h, 3, "k1"), Outcome::Wait);
    w.on_tick(&mut h);
    let settled = last(&mut w, &mut h, answer(Some(200), &set(&["k1"]), None));
    assert!(allowed(&settled[0].1));
}

#[test]
fn outage_keeps_good_keys_and_backs_off() {
    let process = Process::at(T0);
    let (mut w, mut h) = loaded(&process, &["k1"]);
    process.advance(600_000);
    let mut attempts = vec![];
    for _ in 0..400 {
        w.on_tick(&mut h);
        if let Some(&(token, _, at)) = h.calls.last().filter(|c| c.2 == process.clock.get()) {
            attempts.push(at - T0 - 600_000);
            w.on_fetch_answer(&mut h, token, answer(Some(500), "", None));
        }
        assert!(
            allowed(&send(&mut w, &mut h, 1, "k1")),
            "good keys are kept"
        );
        process.advance(100);
    }
    assert_eq!(attempts, [0, 1_000, 3_000, 7_000, 15_000, 31_000]);
    assert_eq!(h.count(Counter::FetchFailure(0)), 6);
}

#[test]
fn retry_after_of_a_429_is_honoured() {
    let process = Process::at(T0);
    let (mut w, mut h) = process.worker(&config(""));
    w.on_tick(&mut h);
    last(&mut w, &mut h, answer(Some(429), "", Some("120")));
    assert_eq!(
        send(&mut w, &mut h, 1, "k1"),
        Outcome::Reply(Denial::KeysUnavailable { retry_after_s: 120 })
    );
    process.advance(119_000);
    w.on_tick(&mut h);
    assert_eq!(h.calls.len(), 1);
    process.advance(1_000);
    w.on_tick(&mut h);
    assert_eq!(h.calls.len(), 2);
}

#[test]
fn scheduled_refreshes_are_jittered() {
    for (random, due_s) in [(0, 540), (60_000, 600), (120_000, 660)] {
        let process = Process::at(T0);
        let (mut w, mut h) = process.worker(&config(""));
        h.random = random;
        w.on_tick(&mut h);
        last(&mut w, &mut h, answer(Some(200), &set(&["k1"]), None));
        process.advance(due_s * 1000 - 1);
        w.on_tick(&mut h);
        assert_eq!(h.calls.len(), 1);
        process.advance(1);
        w.on_tick(&mut h);
        assert_eq!(h.calls.len(), 2, "refresh at {due_s}s");
    }
}

#[test]
fn two_workers_fetch_once_and_share_the_parsed_keys() {
    let process = Process::at(T0);
    let (mut a, mut ha) = process.worker(&config(""));
    let (mut b, mut hb) = process.worker(&config(""));
    a.on_tick(&mut ha);
    b.on_tick(&mut hb);
    assert_eq!(
        (ha.calls.len(), hb.calls.len()),
        (1, 0),
        "one lease, one fetch"
    );
    last(&mut a, &mut ha, answer(Some(200), &set(&["k1"]), None));
    let (a_reads, b_reads) = (ha.key_reads(), hb.key_reads());
    for _ in 0..5 {
        a.on_tick(&mut ha);
        b.on_tick(&mut hb);
        process.advance(1_000);
    }
    assert_eq!(
        ha.key_reads(),
        a_reads,
        "the fetching worker parsed the set once"
    );
    assert_eq!(
        hb.key_reads(),
        b_reads + 1,
        "the other worker copied it once"
    );
    assert!(allowed(&send(&mut b, &mut hb, 1, "k1")));
    assert_eq!(hb.calls.len(), 0);
}

#[test]
fn a_request_held_on_one_worker_is_settled_by_anothers_fetch() {
    let process = Process::at(T0);
    let (mut a, mut ha) = process.worker(&config(""));
    let (mut b, mut hb) = process.worker(&config(""));
    b.on_tick(&mut hb); // b wins the lease
    assert_eq!(send(&mut a, &mut ha, 9, "k1"), Outcome::Wait);
    assert_eq!(a.retune(T0), Some(BUSY_TICK_MS));
    assert!(a.on_tick(&mut ha).is_empty(), "held while b fetches");
    assert!(ha.calls.is_empty());
    process.advance(40);
    last(&mut b, &mut hb, answer(Some(200), &set(&["k1"]), None));
    let settled = a.on_tick(&mut ha);
    assert!(allowed(&settled[0].1));
    assert_eq!(
        a.retune(process.clock.get()),
        Some(IDLE_TICK_MS),
        "a stops ticking fast"
    );
}

#[test]
fn a_held_request_gets_its_fallback_when_the_fetch_never_ends() {
    let process = Process::at(T0);
    let (mut a, mut ha) = process.worker(&config(""));
    let (mut b, mut hb) = process.worker(&config(""));
    b.on_tick(&mut hb); // b's callout never answers
    assert_eq!(send(&mut a, &mut ha, 4, "k1"), Outcome::Wait);
    process.advance(3_000);
    assert!(a.on_tick(&mut ha).is_empty(), "within timeout + grace");
    process.advance(1);
    let settled = a.on_tick(&mut ha);
    assert!(matches!(
        settled[0].1,
        Outcome::Reply(Denial::KeysUnavailable { .. })
    ));
    // The lease of the lost worker has expired: a fetches itself now.
    assert_eq!(ha.calls.len(), 1);
}

#[test]
fn stale_keys_are_dropped_once_and_answered_503() {
    let process = Process::at(T0);
    let (mut a, mut ha) = loaded(&process, &["k1"]);
    let (mut b, mut hb) = process.worker(&config(""));
    assert!(allowed(&send(&mut b, &mut hb, 1, "k1")));
    process.advance(86_400_000 + 1);
    let failing = |w: &mut Worker, h: &mut Fake| {
        w.on_tick(h);
        if let Some(&(token, _, at)) = h.calls.last() {
            if at == h.process.clock.get() {
                w.on_fetch_answer(h, token, answer(Some(503), "", None));
            }
        }
    };
    failing(&mut a, &mut ha);
    failing(&mut b, &mut hb);
    let dropped = ha.count(Counter::KeysDropped(0)) + hb.count(Counter::KeysDropped(0));
    assert_eq!(dropped, 1, "counted once per process");
    for (w, h) in [(&mut a, &mut ha), (&mut b, &mut hb)] {
        let answer = send(w, h, 2, "k1");
        assert!(
            matches!(answer, Outcome::Reply(Denial::KeysUnavailable { .. })),
            "{answer:?}"
        );
    }
    process.advance(1_000);
    a.on_tick(&mut ha);
    last(&mut a, &mut ha, answer(Some(200), &set(&["k1"]), None));
    b.on_tick(&mut hb);
    assert!(
        allowed(&send(&mut b, &mut hb, 3, "k1")),
        "revived by a success"
    );
}

#[test]
fn inline_keys_never_fetch() {
    let process = Process::at(T0);
    let inline = format!(
        r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],"jwks":{}}}]}}"#,
        serde_json::to_string(&set(&["k1"])).unwrap()
    );
    let (mut w, mut h) = process.worker(&inline);
    assert!(allowed(&send(&mut w, &mut h, 1, "k1")));
    let unknown = Outcome::Reply(Denial::InvalidToken(TokenError::UnknownKey));
    assert_eq!(send(&mut w, &mut h, 2, "k2"), unknown);
    w.on_tick(&mut h);
    assert!(h.calls.is_empty());
    assert_eq!(w.retune(T0), Some(IDLE_TICK_MS));
}
