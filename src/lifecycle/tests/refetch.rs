//! Refetches outside the schedule: a new `kid`, a key replaced under its `kid`, and a
//! forged-`kid` flood that backs the cooldown off until a fetch changes the key set.

use super::*;

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
        w.on_request(h, id, &get(&token_headers))
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
            w.on_request(h, id, &get(&token_headers));
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
