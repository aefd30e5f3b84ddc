//! The provider lifecycle against a fake proxy: cold start, rotation, outage, backoff,
//! staleness, workers racing for the lease, and requests held across workers.

mod calls;
mod discovery;
pub mod fake;
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

fn send(worker: &mut Worker, host: &mut Fake, id: u32, kid: &str) -> Outcome {
    let auth = token(kid, host.process.clock.get());
    let token_headers = [("authorization", auth.as_str())];
    let req = Request {
        method: "GET",
        path: "/api",
        token_headers: &token_headers,
        method_overrides: &[],
        dpop: &[],
        origin: None,
        peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
        route: Default::default(),
    };
    worker.on_request(host, id, &req)
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
fn rotation_refetches_once_per_cooldown() {
    let process = Process::at(T0);
    let (mut w, mut h) = loaded(&process, &["k1"]);
    assert_eq!(send(&mut w, &mut h, 1, "k2"), Outcome::Wait);
    w.on_tick(&mut h);
    assert_eq!(h.calls.len(), 2, "the unknown kid triggered a refetch");
    let settled = last(&mut w, &mut h, answer(Some(200), &set(&["k1", "k2"]), None));
    assert!(allowed(&settled[0].1));
    // Another unknown kid within the cooldown is refused at once, without a fetch.
    process.advance(10_000);
    let refused = send(&mut w, &mut h, 2, "k3");
    assert_eq!(
        refused,
        Outcome::Reply(Denial::InvalidToken(TokenError::UnknownKey))
    );
    w.on_tick(&mut h);
    assert_eq!(h.calls.len(), 2);
    process.advance(21_000);
    assert_eq!(send(&mut w, &mut h, 3, "k3"), Outcome::Wait);
    w.on_tick(&mut h);
    let settled = last(&mut w, &mut h, answer(Some(200), &set(&["k1", "k2"]), None));
    let unknown = Outcome::Reply(Denial::InvalidToken(TokenError::UnknownKey));
    assert_eq!(
        settled,
        vec![(3, unknown)],
        "still unknown after the refetch"
    );
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

#[test]
fn a_key_replaced_under_its_kid_is_refetched_once_per_cooldown() {
    use jwt_simple::prelude::*;
    let jwk = |k: &ES256KeyPair| {
        let point = k.public_key().public_key().to_bytes_uncompressed();
        let (x, y) = point[1..].split_at(32);
        let (x, y) = (crate::b64::encode(x), crate::b64::encode(y));
        jwks(&[format!(
            r#"{{"kty":"EC","crv":"P-256","kid":"e1","x":"{x}","y":"{y}"}}"#
        )])
    };
    let (old, new) = (ES256KeyPair::generate(), ES256KeyPair::generate());
    let process = Process::at(T0);
    let (mut w, mut h) = process.worker(&config(""));
    w.on_tick(&mut h);
    last(&mut w, &mut h, answer(Some(200), &jwk(&old), None));
    let claims = || {
        let c = format!(
            r#"{{"iss":"https://t/","aud":"api","exp":{}}}"#,
            T0 / 1000 + 3600
        );
        serde_json::from_str::<JWTClaims<NoCustomClaims>>(&c).unwrap()
    };
    let sign = |k: &ES256KeyPair| {
        let k = ES256KeyPair::from_bytes(&k.to_bytes())
            .unwrap()
            .with_key_id("e1");
        format!("Bearer {}", k.sign(claims()).unwrap())
    };
    let send_as = |w: &mut Worker, h: &mut Fake, id, auth: &str| {
        let token_headers = [("authorization", auth)];
        let req = Request {
            method: "GET",
            path: "/",
            token_headers: &token_headers,
            method_overrides: &[],
            dpop: &[],
            origin: None,
            peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
            route: Default::default(),
        };
        w.on_request(h, id, &req)
    };
    // The IdP restarted with a new key under the same kid: its token is held for a refetch.
    assert_eq!(send_as(&mut w, &mut h, 1, &sign(&new)), Outcome::Wait);
    w.on_tick(&mut h);
    assert_eq!(h.calls.len(), 2);
    let settled = last(&mut w, &mut h, answer(Some(200), &jwk(&new), None));
    assert!(allowed(&settled[0].1), "accepted at once: {settled:?}");
    // A flood of signatures the (new) key does not verify costs no fetch within the cooldown.
    let bad = sign(&old);
    for id in 2..50 {
        let refused = Outcome::Reply(Denial::InvalidToken(TokenError::Signature));
        assert_eq!(send_as(&mut w, &mut h, id, &bad), refused);
        w.on_tick(&mut h);
    }
    assert_eq!(h.calls.len(), 2);
}

#[test]
fn a_forged_kid_flood_backs_the_refetch_cooldown_off_and_a_new_key_restores_it() {
    let process = Process::at(T0);
    let (mut w, mut h) = loaded(&process, &["k1"]);
    // A token with a forged kid every second for 20 minutes: each refetch brings the same set.
    let forged = token("forged", T0);
    let flood = |w: &mut Worker, h: &mut Fake, from: u32, seconds: u32| {
        for id in from..from + seconds {
            let token_headers = [("authorization", forged.as_str())];
            let req = Request {
                method: "GET",
                path: "/api",
                token_headers: &token_headers,
                method_overrides: &[],
                dpop: &[],
                origin: None,
                peer_certificate: &crate::sender::mtls::NO_CERTIFICATE,
                route: Default::default(),
            };
            w.on_request(h, id, &req);
            w.on_tick(h);
            if let Some(&(token, _, _)) = h.calls.last().filter(|c| c.2 == process.clock.get()) {
                w.on_fetch_answer(h, token, answer(Some(200), &set(&["k1"]), None));
            }
            process.advance(1_000);
        }
    };
    flood(&mut w, &mut h, 1, 1_200);
    let seconds: Vec<u64> = h.calls.iter().skip(1).map(|c| (c.2 - T0) / 1000).collect();
    // Cooldown 30 s doubling to 60, 120, 240, 480, then capped at refresh_interval_s (600);
    // the scheduled refresh (540 s after the last fetch) never comes due in between.
    // A fixed 30 s cooldown would have fetched 40 times.
    assert_eq!(seconds, [0, 60, 180, 420, 900]);
    // A refetch that brings a new key (the IdP rotated) restores the configured cooldown.
    process.advance(600_000);
    assert_eq!(send(&mut w, &mut h, 20_000, "k2"), Outcome::Wait);
    w.on_tick(&mut h);
    let settled = last(&mut w, &mut h, answer(Some(200), &set(&["k1", "k2"]), None));
    assert!(allowed(&settled[0].1));
    let rotated_at = process.clock.get();
    process.advance(30_000);
    let before = h.calls.len();
    flood(&mut w, &mut h, 30_000, 1);
    assert_eq!(
        h.calls.len(),
        before + 1,
        "refetch allowed 30 s after the rotation"
    );
    assert_eq!(h.calls.last().map(|c| c.2), Some(rotated_at + 30_000));
}
