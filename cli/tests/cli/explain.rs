//! `jwt-guard explain`: the decision, its report, exit codes, keys from files and over
//! HTTP, and the token kept out of every output.

use crate::support::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

const NOW_ARG: &str = "1800000000";

struct Setup {
    dir: Dir,
    config: String,
    jwks: String,
}

fn setup(name: &str, extra: &str) -> Setup {
    let dir = Dir::new(name);
    let config = dir.file("plugin.json", &plugin(extra));
    let jwks = dir.file("jwks.json", &jwks("k1"));
    Setup { dir, config, jwks }
}

fn explain(s: &Setup, args: &[&str], token: Option<&str>) -> Run {
    let mut all = vec![
        "explain", "--config", &s.config, "--jwks", &s.jwks, "--now", NOW_ARG,
    ];
    all.extend_from_slice(args);
    all.extend(token);
    run(&all, "")
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[test]
fn an_allowed_request_names_provider_kid_rule_and_forwarded_headers() {
    let s = setup(
        "allowed",
        r#""rules":[{"prefix":"/admin","methods":["POST"],"scopes":["write"]}],
           "forward_claims":{"sub":"x-jwt-sub"},"forward_payload_header":"x-jwt-payload""#,
    );
    let t = token("k1", r#"{"sub":"alice","scope":"write"}"#);
    let args = [
        "--method",
        "POST",
        "--path",
        "/admin/users",
        "--header",
        "X-Jwt-Sub: mallory",
    ];
    let r = explain(&s, &args, Some(&t));
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("status: 200 (allowed)"));
    assert!(r.stdout.contains(r#"rules[0] (prefix "/admin", methods POST, scopes write) under reading "/admin/users" as POST"#));
    assert!(r
        .stdout
        .contains(r#"provider: idp verified the token (kid "k1", RS256)"#));
    assert!(r.stdout.contains("x-jwt-sub: alice  (set by jwt-guard)"));
    assert!(r.stdout.contains("removed inbound: x-jwt-sub"));
    assert!(!r.stdout.contains("mallory"));
    assert_secret(&r.all(), &t);

    let r = explain(&s, &[&args[..], &["--json"]].concat(), Some(&t));
    assert_eq!(r.code, 0);
    let v = json(&r);
    assert_eq!(v["status"], 200);
    assert_eq!(v["reason"], serde_json::Value::Null);
    assert_eq!(v["provider"], "idp");
    assert_eq!(v["kid"], "k1");
    assert_eq!(v["www_authenticate"], serde_json::json!([]));
    assert_eq!(v["forwarded"]["x-jwt-sub"], "alice");
    assert_eq!(v["forwarded"]["x-jwt-payload"], "<redacted>");
    assert_eq!(v["rules"][0]["rule"], 0);
    assert_secret(&r.all(), &t);
}

#[test]
fn refusals_give_status_reason_and_challenge() {
    let s = setup(
        "refused",
        r#""rules":[{"prefix":"/admin","scopes":["write"]}]"#,
    );
    let expired = token_until("k1", "{}", NOW - 3600);
    let r = explain(&s, &["--json"], Some(&expired));
    assert_eq!(r.code, 1);
    let v = json(&r);
    assert_eq!(v["status"], 401);
    assert_eq!(v["reason"], "expired");
    assert_eq!(v["metric"], "jwt_guard.denied.expired");
    assert!(v["www_authenticate"][0]
        .as_str()
        .unwrap()
        .starts_with(r#"Bearer error="invalid_token""#));
    assert_eq!(v["provider"], "idp");
    assert_eq!(v["verified"], false);
    assert_secret(&r.all(), &expired);

    let unknown = token("nope", "{}");
    let r = explain(&s, &["--json"], Some(&unknown));
    assert_eq!(
        (r.code, json(&r)["reason"].clone()),
        (1, "unknown_key".into())
    );

    let weak = token("k1", r#"{"scope":"read"}"#);
    let r = explain(&s, &["--path", "/admin"], Some(&weak));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("status: 403 (refused)"), "{}", r.stdout);
    assert!(r.stdout.contains("reason: insufficient_scope"));
    assert_secret(&r.all(), &weak);

    let r = explain(&s, &[], None);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("reason: missing_token"));
    assert!(r.stdout.contains("www-authenticate: Bearer\n"));
}

#[test]
fn the_token_is_read_from_stdin_and_never_printed() {
    let s = setup("stdin", r#""forward_payload_header":"x-jwt-payload""#);
    let t = token("k1", r#"{"sub":"bob"}"#);
    let args = [
        "explain", "--config", &s.config, "--jwks", &s.jwks, "--now", NOW_ARG, "-",
    ];
    let r = run(&args, &format!("{t}\n"));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_secret(&r.all(), &t);
    let json_args = [&args[..7], &["--json", "-"]].concat();
    let r = run(&json_args, &t);
    assert_eq!(r.code, 0);
    assert_secret(&r.all(), &t);
    // A broken token: every part still kept out (the signature of a good one, re-used).
    let bad = format!("{}.{}", t.rsplit_once('.').unwrap().0, "A".repeat(342));
    let r = run(&args, &bad);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("reason: signature"), "{}", r.stdout);
    assert_secret(&r.all(), &bad);
    let r = run(&args, "");
    assert_eq!(r.code, 2);
}

#[test]
fn without_keys_the_answer_is_keys_unavailable() {
    let s = setup("nokeys", "");
    let t = token("k1", "{}");
    let r = run(
        &[
            "explain", "--config", &s.config, "--now", NOW_ARG, "--json", &t,
        ],
        "",
    );
    assert_eq!(r.code, 1);
    let v = json(&r);
    assert_eq!(
        (v["status"].clone(), v["reason"].clone()),
        (503.into(), "keys_unavailable".into())
    );
    assert!(v["retry_after"].is_string());
    assert_secret(&r.all(), &t);
    // A file for another provider name is none for this one.
    let other = format!("other={}", s.jwks);
    let r = run(
        &[
            "explain", "--config", &s.config, "--jwks", &other, "--now", NOW_ARG, &t,
        ],
        "",
    );
    assert!(
        r.stdout.contains("reason: keys_unavailable"),
        "{}",
        r.stdout
    );
    let named = format!("idp={}", s.jwks);
    let r = run(
        &[
            "explain", "--config", &s.config, "--jwks", &named, "--now", NOW_ARG, &t,
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn report_mode_continues_and_says_what_enforcement_would_do() {
    let s = setup(
        "report",
        r#""rules":[{"prefix":"/","mode":"report","scopes":["x"]}]"#,
    );
    let r = explain(&s, &["--json"], None);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = json(&r);
    assert_eq!(v["status"], 200);
    assert_eq!(v["report_would"]["reason"], "missing_token");
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let s = setup("usage", "");
    let t = token("k1", "{}");
    let bad = s.dir.file("bad.json", r#"{"providers":[{"name":"idp"}]}"#);
    let r = run(&["explain", "--config", &bad, &t], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("providers[idp]"), "{}", r.stderr);
    assert_secret(&r.all(), &t);
    let r = run(
        &[
            "explain",
            "--config",
            &s.config,
            "--header",
            &format!("Bearer {t}"),
            &t,
        ],
        "",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--header number 1"));
    assert_secret(&r.all(), &t);
    let r = run(&["explain", "--config", "/nonexistent.json", &t], "");
    assert_eq!(r.code, 2);
    let r = run(&["explain", &t], "");
    assert_eq!(r.code, 2, "--config is required");
    let r = run(
        &[
            "explain", "--config", &s.config, "--fetch", "--jwks", &s.jwks, &t,
        ],
        "",
    );
    assert_eq!(r.code, 2, "--fetch and --jwks exclude each other");
}

#[test]
fn an_envoy_file_is_a_configuration_too() {
    let s = setup("envoy", "");
    let inner = plugin("").replace('\n', " ");
    let yaml = format!(
        "static_resources:\n  listeners:\n  - name: api\n    filter_chains:\n    - filters:\n      - typed_config:\n          http_filters:\n          - name: envoy.filters.http.wasm\n            typed_config:\n              '@type': type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm\n              config:\n                root_id: jwt_guard\n                configuration:\n                  '@type': type.googleapis.com/google.protobuf.StringValue\n                  value: '{inner}'\n"
    );
    let config = s.dir.file("envoy.yaml", &yaml);
    let t = token("k1", "{}");
    let r = run(
        &[
            "explain", "--config", &config, "--jwks", &s.jwks, "--now", NOW_ARG, &t,
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.all());
}

/// Serves `body` with status 200 to every GET, on a free port; returns the port.
fn serve(body: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = (&stream).write_all(reply.as_bytes());
        }
    });
    port
}

#[test]
fn fetch_gets_the_keys_from_the_jwks_uri() {
    let port = serve(jwks("k1"));
    let dir = Dir::new("fetch");
    let config = dir.file(
        "plugin.json",
        &plugin("").replace(
            "https://idp.test/jwks",
            &format!("http://127.0.0.1:{port}/jwks"),
        ),
    );
    let t = token("k1", "{}");
    let r = run(
        &[
            "explain", "--config", &config, "--fetch", "--now", NOW_ARG, "--json", &t,
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let v = json(&r);
    assert!(v["notes"][0].as_str().unwrap().contains("200"), "{v}");
    assert_secret(&r.all(), &t);
}

#[test]
fn a_discovered_provider_takes_its_keys_from_the_jwks_file() {
    let dir = Dir::new("discovered");
    let config = dir.file(
        "plugin.json",
        &format!(
            r#"{{"providers":[{{"name":"idp","issuer":"{ISSUER}","audiences":["{AUDIENCE}"],
                "discovery":true,"jwks_cluster":"idp"}}]}}"#
        ),
    );
    let keys = dir.file("jwks.json", &jwks("k1"));
    let t = token("k1", "{}");
    let r = run(
        &[
            "explain", "--config", &config, "--jwks", &keys, "--now", NOW_ARG, &t,
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("discovery answered with the --jwks file"),
        "{}",
        r.stdout
    );
}

#[test]
fn hosts_route_names_and_named_rules_are_explained_from_the_flags() {
    let s = setup(
        "route",
        r#""rules":[{"hosts":["admin.example.com"],"scopes":["admin"]},
                    {"route_names":["internal*"],"scopes":["internal"]},
                    {"name":"open","allow_anonymous":true}]"#,
    );
    let t = token("k1", r#"{"scope":"read"}"#);
    let reason = |args: &[&str]| {
        let r = explain(&s, &[args, &["--json"]].concat(), Some(&t));
        json(&r)["reason"].clone()
    };
    assert_eq!(
        reason(&["--host", "admin.example.com"]),
        "insufficient_scope"
    );
    assert_eq!(
        reason(&["--host", "www.example.com"]),
        serde_json::Value::Null
    );
    assert_eq!(
        reason(&["--route-name", "internal-api"]),
        "insufficient_scope"
    );
    assert_eq!(reason(&["--route-name", "public"]), serde_json::Value::Null);
    let r = explain(&s, &["--route-rule", "open"], None);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("rules[2]"), "{}", r.stdout);
    assert!(
        r.stdout.contains("named by the route's metadata"),
        "{}",
        r.stdout
    );
    let r = explain(&s, &["--route-rule", "nope", "--json"], None);
    assert_eq!(json(&r)["reason"], "unknown_route_rule");
    let r = explain(&s, &["--host", "admin.example.com"], Some(&t));
    assert!(
        r.stdout.contains(r#"on host "admin.example.com""#),
        "{}",
        r.stdout
    );
}
