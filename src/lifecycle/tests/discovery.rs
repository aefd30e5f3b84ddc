//! Discovered providers and `report` mode in the lifecycle, against the fake proxy.

use super::fake::{answer, Process};
use super::*;

fn discovered() -> String {
    r#"{"providers":[{"name":"p","issuer":"https://t/","audiences":["api"],"discovery":true,
        "jwks_cluster":"c","refresh_interval_s":600,"refetch_cooldown_s":30,"jwks_timeout_ms":1000}]}"#
        .to_string()
}

fn document(issuer: &str, jwks_uri: &str) -> String {
    format!(r#"{{"issuer":"{issuer}","jwks_uri":"{jwks_uri}"}}"#)
}

#[test]
fn discovery_finds_the_keys_in_one_round_and_falls_back_to_rfc8414() {
    let process = Process::at(T0);
    let (mut w, mut h) = process.worker(&discovered());
    assert_eq!(send(&mut w, &mut h, 1, "k1"), Outcome::Wait);
    w.on_tick(&mut h);
    assert!(last(&mut w, &mut h, answer(Some(404), "", None)).is_empty());
    let doc = document("https://t/", "https://keys.t/oauth/jwks");
    assert!(last(&mut w, &mut h, answer(Some(200), &doc, None)).is_empty());
    let settled = last(&mut w, &mut h, answer(Some(200), &set(&["k1"]), None));
    assert!(allowed(&settled[0].1));
    let uris: Vec<&str> = h.calls.iter().map(|(_, uri, _)| uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "https://t/.well-known/openid-configuration",
            "https://t/.well-known/oauth-authorization-server",
            "https://keys.t/oauth/jwks"
        ]
    );
    assert_eq!(h.count(Counter::DiscoverySuccess(0)), 1);
    assert_eq!(h.count(Counter::FetchSuccess(0)), 1);
}

#[test]
fn a_document_for_another_issuer_gets_no_keys_but_the_last_good_one_is_kept() {
    let process = Process::at(T0);
    let (mut w, mut h) = process.worker(&discovered());
    assert_eq!(send(&mut w, &mut h, 1, "k1"), Outcome::Wait);
    w.on_tick(&mut h);
    let evil = document("https://evil/", "https://evil/jwks");
    let settled = last(&mut w, &mut h, answer(Some(200), &evil, None));
    assert_eq!(
        settled,
        vec![(
            1,
            Outcome::Reply(Denial::KeysUnavailable { retry_after_s: 1 })
        )]
    );
    assert_eq!(
        h.calls.len(),
        1,
        "the mixed-up document's jwks_uri is never fetched"
    );
    assert_eq!(h.count(Counter::DiscoveryFailure(0)), 1);
    assert_eq!(h.count(Counter::FetchFailure(0)), 1);
    // A good round, then a broken document: the last good document's keys are refreshed.
    process.advance(1_000);
    assert_eq!(send(&mut w, &mut h, 2, "k1"), Outcome::Wait);
    w.on_tick(&mut h);
    last(
        &mut w,
        &mut h,
        answer(Some(200), &document("https://t/", "https://t/k"), None),
    );
    let settled = last(&mut w, &mut h, answer(Some(200), &set(&["k1"]), None));
    assert!(allowed(&settled[0].1));
    process.advance(601_000);
    w.on_tick(&mut h);
    last(&mut w, &mut h, answer(Some(500), "", None));
    assert_eq!(h.calls.last().map(|c| c.1.as_str()), Some("https://t/k"));
    last(&mut w, &mut h, answer(Some(200), &set(&["k1", "k2"]), None));
    assert_eq!(h.count(Counter::DiscoveryFailure(0)), 2);
    assert_eq!(h.count(Counter::FetchSuccess(0)), 2);
    assert!(allowed(&send(&mut w, &mut h, 3, "k2")));
}

#[test]
fn report_mode_continues_and_counts_apart_even_after_waiting_in_vain() {
    let process = Process::at(T0);
    let cfg = config("").replace(
        "\"jwks_timeout_ms\":1000}]",
        "\"jwks_timeout_ms\":1000}],\"rules\":[{\"prefix\":\"/api\",\"mode\":\"report\"}]",
    );
    let (mut w, mut h) = process.worker(&cfg);
    assert_eq!(send(&mut w, &mut h, 1, "k1"), Outcome::Wait);
    w.on_tick(&mut h);
    let settled = last(&mut w, &mut h, answer(None, "", None));
    assert_eq!(settled, vec![(1, Outcome::Continue(vec![]))]);
    assert_eq!(h.count(Counter::Reported(Reason::KeysUnavailable)), 1);
    assert_eq!(h.count(Counter::Denied(Reason::KeysUnavailable)), 0);
    process.advance(1_000);
    assert_eq!(send(&mut w, &mut h, 2, "k1"), Outcome::Wait);
    w.on_tick(&mut h);
    let settled = last(&mut w, &mut h, answer(Some(200), &set(&["k1"]), None));
    assert!(allowed(&settled[0].1));
    assert_eq!(h.count(Counter::ReportAllowed), 1);
    assert_eq!(h.count(Counter::Allowed), 0);
}
