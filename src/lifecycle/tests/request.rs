//! How a request is read: the plan a configuration fixes, run against a fake header map.

use super::fake::Headers;
use crate::config::Config;
use crate::lifecycle::headers::encode_map;
use crate::lifecycle::request::*;

fn config(extra: &str) -> Config {
    let text = format!(
        r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["a"],
            "jwks_cluster":"c"}}]{extra}}}"#
    );
    Config::parse(text.as_bytes()).unwrap()
}

fn headers(pairs: &[(&str, &str)]) -> Headers {
    Headers::of(pairs)
}

#[test]
fn maps_decode_as_encoded_and_malformed_ones_as_empty() {
    let map = encode_map(&[("a", "bc".to_string()), ("d", String::new())]);
    let got = pairs(&map);
    assert_eq!(got, [(&b"a"[..], &b"bc"[..]), (&b"d"[..], &b""[..])]);
    // (The last NUL is not needed to read the map.)
    for cut in 0..map.len() - 1 {
        assert!(pairs(map.get(..cut).unwrap()).len() < 2);
    }
    assert!(pairs(&[255, 255, 255, 255]).is_empty());
}

#[test]
fn a_lean_plan_looks_up_two_headers_and_nothing_else() {
    let cfg = config("");
    let plan = Plan::of(&cfg);
    let mut h = headers(&[(":path", "/x"), ("authorization", "Bearer t")]);
    let read = plan.read(&cfg, &mut h);
    assert_eq!(h.calls, 2);
    assert_eq!(
        read.token_headers,
        [("authorization".into(), "Bearer t".into())]
    );
    assert_eq!(read.path, "", "the path is not needed without rules");
    // A proof needs method, path and origin: the whole map is read.
    let mut h = headers(&[
        (":method", "GET"),
        (":path", "/x"),
        (":scheme", "https"),
        (":authority", "api.example.com"),
        ("dpop", "p1"),
        ("dpop", "p2"),
    ]);
    let read = plan.read(&cfg, &mut h);
    assert_eq!(h.calls, 3);
    assert_eq!((read.method.as_str(), read.path.as_str()), ("GET", "/x"));
    assert_eq!(read.dpop, ["p1", "p2"]);
    assert!(read.origin.is_some());
}

#[test]
fn one_map_read_removes_only_the_managed_headers_present() {
    let cfg = config(
        r#","rules":[{"prefix":"/admin","methods":["POST"]}],
           "forward_claims":{"sub":"x-jwt-sub","email":"x-jwt-email","a":"x-a-b-c-d-e-f"},
           "token_sources":[{"header":"authorization","scheme":"Bearer"},{"cookie":"at"}]"#,
    );
    let plan = Plan::of(&cfg);
    let mut h = headers(&[
        (":method", "GET"),
        (":path", "/admin"),
        ("x_jwt-sub", "spoofed"),
        ("x-jwt_sub", "spoofed"),
        ("x_jwt-sub", "again"),
        ("cookie", "at=1"),
        ("cookie", "b=2"),
        ("x-http-method-override", "POST"),
    ]);
    let read = plan.read(&cfg, &mut h);
    assert_eq!(h.removed, ["x_jwt-sub", "x-jwt_sub"]);
    assert_eq!(
        h.calls, 3,
        "one map read and one removal per spelling present"
    );
    assert_eq!(read.method, "GET");
    assert_eq!(read.path, "/admin");
    assert_eq!(
        read.token_headers,
        [
            ("cookie".into(), "at=1".into()),
            ("cookie".into(), "b=2".into())
        ]
    );
    assert_eq!(read.overrides, ["POST"]);
    // Every value of every spelling of the method-override headers.
    let mut h = headers(&[
        ("x-http-method-override", "GET"),
        ("x_method_override", "PUT"),
        ("x-http-method-override", "DELETE"),
    ]);
    assert_eq!(plan.read(&cfg, &mut h).overrides, ["GET", "PUT", "DELETE"]);
    assert!(read.dpop.is_empty() && read.origin.is_none());
}

#[test]
fn header_names_match_across_separators_only() {
    assert!(same_header("x-jwt-sub", "x_jwt_sub"));
    assert!(same_header("x-jwt-sub", "X-Jwt-Sub"));
    assert!(!same_header("x-jwt-sub", "x-jwt-su"));
    assert!(!same_header("x-jwt-sub", "x.jwt-sub"));
}
