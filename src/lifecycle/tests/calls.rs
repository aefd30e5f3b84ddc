//! How many host calls a request costs, counted through the fake host: on an anonymous
//! route without a token a small constant, whatever else is configured; the client
//! certificate only for a token bound to one.

use super::fake::{Certificate, Headers, Process};
use super::T0;
use crate::lifecycle::Outcome;
use crate::testkeys::{jwks, rsa_jwk, sign_rs256};

const ANONYMOUS: &str = r#"{"prefix":"/","allow_anonymous":true}"#;

fn config(rules: &str, extra: &str) -> String {
    let keys = serde_json::to_string(&jwks(&[rsa_jwk("k1", true)])).unwrap();
    format!(
        r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["api"],
            "jwks":{keys}}}],"rules":[{rules}]{extra}}}"#
    )
}

/// Reads and decides one request; the host calls it took and its outcome.
fn run(config: &str, headers: &[(&str, &str)], peer: &Certificate) -> (u32, Outcome) {
    let (mut worker, mut host) = Process::at(T0).worker(config);
    let host = &mut host;
    host.host_calls.borrow_mut().clear();
    let mut request = Headers::of(headers);
    let cfg = worker.config();
    let read = worker.plan().read(&cfg, &mut request);
    let lists = read.lists();
    let outcome = worker.on_request(host, 1, &read.request(&lists, peer, Default::default()));
    assert!(
        !worker.retune_due(),
        "a decided request leaves the tick period alone"
    );
    let calls = request.calls + host.host_calls.borrow().len() as u32 + peer.reads.get();
    (calls, outcome)
}

fn browser() -> Vec<(&'static str, &'static str)> {
    vec![
        (":method", "GET"),
        (":path", "/api/items?x=1"),
        (":scheme", "https"),
        (":authority", "api.example.com"),
        ("accept", "application/json"),
        ("cookie", "session=abc; theme=dark"),
        ("x-jwt-sub", "spoofed"),
    ]
}

#[test]
fn an_anonymous_request_without_a_token_costs_a_few_host_calls_whatever_is_configured() {
    let claims = (0..10)
        .map(|i| format!(r#""c{i}":"x-claim-number-{i}""#))
        .collect::<Vec<_>>()
        .join(",");
    let configured = [
        String::new(),
        format!(r#","forward_claims":{{{claims}}}"#),
        r#","forward_claims":{"sub":"x-jwt-sub"},"forward_payload_header":"x-jwt-payload","forward_provider_header":"x-jwt-provider""#.to_string(),
        r#","method_override":"strip""#.to_string(),
        r#","token_sources":[{"header":"authorization","scheme":"Bearer"},{"cookie":"at"}]"#.to_string(),
        r#","dpop_nonce":true,"resource_metadata":{"resource":"https://api.example.com"}"#.to_string(),
    ];
    let rules = [
        ANONYMOUS.to_string(),
        format!(r#"{{"prefix":"/admin","methods":["POST"],"scopes":["w"]}},{ANONYMOUS}"#),
        format!(r#"{{"prefix":"/x","claims":[{{"claim":"tier","equals":"gold"}}]}},{ANONYMOUS}"#),
        r#"{"prefix":"/","allow_anonymous":true,"mode":"report"}"#.to_string(),
    ];
    for extra in &configured {
        for rule in &rules {
            let peer = Certificate::default();
            let (calls, outcome) = run(&config(rule, extra), &browser(), &peer);
            assert!(
                matches!(outcome, Outcome::Continue(ref h) if h.is_empty()),
                "{outcome:?}"
            );
            // One read of the header map and the `allowed` counter; a removal only for a
            // managed header present (`x-jwt-sub`), the clock only when a header a token
            // source reads is present (the cookie, when a cookie is a token source).
            let removals = u32::from(extra.contains("x-jwt-sub"));
            let clock = u32::from(extra.contains("cookie"));
            assert_eq!(calls, 2 + removals + clock, "rules [{rule}] and {extra}");
        }
    }
}

#[test]
fn without_rules_a_request_is_two_look_ups() {
    let cfg = config("", "");
    let peer = Certificate::default();
    // No token: `Authorization` and `DPoP` looked up (both absent), the refusal counted.
    let (calls, outcome) = run(&cfg, &browser(), &peer);
    assert!(matches!(outcome, Outcome::Reply(_)));
    assert_eq!(calls, 3);
    // A token: the same two look-ups, the clock and the `allowed` counter.
    let claims = format!(
        r#"{{"iss":"https://t/","aud":"api","exp":{}}}"#,
        T0 / 1000 + 60
    );
    let auth = format!("Bearer {}", sign_rs256("k1", &claims));
    let mut headers = browser();
    headers.push(("authorization", &auth));
    let (calls, outcome) = run(&cfg, &headers, &peer);
    assert!(matches!(outcome, Outcome::Continue(_)), "{outcome:?}");
    assert_eq!(calls, 4);
}

#[test]
fn the_client_certificate_is_read_only_for_a_token_bound_to_one() {
    let cfg = config(ANONYMOUS, "");
    let digest = "ab".repeat(32);
    let x5t = crate::sender::mtls::thumbprint_of_hex(&digest).unwrap();
    let token = |cnf: &str| {
        let claims = format!(
            r#"{{"iss":"https://t/","aud":"api","exp":{}{cnf}}}"#,
            T0 / 1000 + 60
        );
        format!("Bearer {}", sign_rs256("k1", &claims))
    };
    for (cnf, reads) in [
        (String::new(), 0),
        (format!(r#","cnf":{{"x5t#S256":"{x5t}"}}"#), 1),
    ] {
        let auth = token(&cnf);
        let peer = Certificate {
            digest: Some(digest.clone()),
            ..Certificate::default()
        };
        let (_, outcome) = run(&cfg, &[(":path", "/"), ("authorization", &auth)], &peer);
        assert!(matches!(outcome, Outcome::Continue(_)), "{outcome:?}");
        assert_eq!(peer.reads.get(), reads, "cnf {cnf}");
    }
}
