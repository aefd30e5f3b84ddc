//! Configuration parsing and validation tests.

use super::*;
use crate::alg::Algorithm;

fn parse(json: &str) -> Result<Config, ConfigError> {
    Config::parse(json.as_bytes())
}

const MINIMAL: &str = r#"{"providers":[{"name":"prod","issuer":"https://t.eu.auth0.com/",
    "audiences":["https://api.example.com"],"jwks_cluster":"tenant"}]}"#;

#[test]
fn minimal_config_gets_defaults() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.clock_skew_s, 60);
    assert_eq!(c.max_token_bytes, 8192);
    assert!(c.rules.is_empty());
    let p = &c.providers[0];
    assert_eq!(p.refresh_interval_s, 600);
    assert_eq!(p.refetch_cooldown_s, 30);
    assert_eq!(p.algorithms, Algorithm::ALL.to_vec());
    match &p.keys {
        KeySource::Remote(r) => {
            assert_eq!(r.uri, "https://t.eu.auth0.com/.well-known/jwks.json");
            assert_eq!(r.authority, "t.eu.auth0.com");
            assert_eq!(r.path, "/.well-known/jwks.json");
            assert_eq!(r.cluster, "tenant");
        }
        _ => panic!("expected remote"),
    }
}

#[test]
fn full_config_parses() {
    let c = parse(
        r#"{"providers":[{"name":"prod","issuer":"https://t/","audiences":["a","b"],
          "jwks_uri":"http://127.0.0.1:9000/keys?x=1","jwks_cluster":"c","refresh_interval_s":5,
          "refetch_cooldown_s":0,"algorithms":["RS256","ES256"]}],
          "clock_skew_s":0,"rules":[{"prefix":"/healthz","allow_anonymous":true},
          {"prefix":"/admin","methods":["POST"],"scopes":["write:admin"]}],
          "forward_claims":{"sub":"X-Jwt-Sub"},"forward_payload_header":"x-jwt-payload",
          "token_cache_size":0}"#,
    )
    .unwrap();
    assert_eq!(c.forward_claims, vec![("sub".into(), "x-jwt-sub".into())]);
    assert_eq!(c.rules[1].scopes, vec!["write:admin".to_string()]);
    assert_eq!(c.token_cache_size, 0);
    assert_eq!(c.signature_backend, SignatureBackend::Auto);
    let mut managed: Vec<&str> = c.managed_headers().collect();
    managed.sort_unstable();
    assert_eq!(
        managed,
        [
            "x-jwt-payload",
            "x-jwt-sub",
            "x-jwt_payload",
            "x-jwt_sub",
            "x_jwt-payload",
            "x_jwt-sub",
            "x_jwt_payload",
            "x_jwt_sub"
        ]
    );
    assert!(c.is_method_override_header("x_http_method-override"));
    assert_eq!(c.method_override_headers().count(), 16);
    assert!(c.provider_for("https://t/").is_some());
    assert!(c.provider_for("https://t").is_none());
}

fn error_of(json: &str) -> String {
    parse(json).unwrap_err().to_string()
}

#[test]
fn errors_name_the_field() {
    let cases = [
        ("not json", "configuration"),
        (r#"{"providers":[]}"#, "providers"),
        (
            r#"{"providers":[{"issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}]}"#,
            "providers[0].name",
        ),
        (
            r#"{"providers":[{"name":"p","audiences":["a"],"jwks_cluster":"c"}]}"#,
            "providers[p].issuer",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":[],"jwks_cluster":"c"}]}"#,
            "providers[p].audiences",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"]}]}"#,
            "providers[p].jwks_cluster",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","algorithms":["HS256"]}]}"#,
            "providers[p].algorithms",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","algorithms":["none"]}]}"#,
            "never accepted",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","algorithms":["XX"]}]}"#,
            "not a supported",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","jwks_uri":"ftp://x"}]}"#,
            "providers[p].jwks_uri",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks":"{\"keys\":[]}"}]}"#,
            "providers[p].jwks",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","audience":"x"}]}"#,
            "unknown field `audience`",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"},{"name":"p","issuer":"https://j/","audiences":["a"],"jwks_cluster":"c"}]}"#,
            "providers[1].name",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"},{"name":"q","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}]}"#,
            "providers[1].issuer",
        ),
    ];
    for (json, field) in cases {
        let e = error_of(json);
        assert!(e.contains(field), "{json} -> {e}");
    }
}

#[test]
fn rejects_bad_rules_and_headers() {
    let with = |extra: &str| {
        error_of(&format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}}],{extra}}}"#
        ))
    };
    assert!(with(r#""rules":[{"prefix":"api"}]"#).contains("rules[0].prefix"));
    assert!(with(r#""rules":[{"prefix":"/a","methods":["get"]}]"#).contains("rules[0].methods"));
    assert!(
        with(r#""rules":[{"prefix":"/a","allow_anonymous":true,"scopes":["x"]}]"#)
            .contains("rules[0].scopes")
    );
    assert!(with(r#""rules":[{"prefix":"/a","scopes":["a b"]}]"#).contains("rules[0].scopes"));
    assert!(with(r#""forward_claims":{"sub":"bad header"}"#).contains("forward_claims.sub"));
    assert!(with(r#""forward_claims":{"sub":"Authorization"}"#).contains("reserved"));
    assert!(with(r#""forward_claims":{"sub":"x-a","azp":"X-A"}"#).contains("set twice"));
    assert!(with(r#""forward_payload_header":":path""#).contains("forward_payload_header"));
    assert!(with(r#""max_token_bytes":10"#).contains("max_token_bytes"));
    assert!(with(r#""clock_skew_s":-1"#).contains("configuration"));
    assert!(with(r#""signature_backend":"openssl""#).contains("signature_backend"));
}

#[test]
fn refuses_oversized_config() {
    let big = vec![b' '; MAX_CONFIG_BYTES + 1];
    assert!(Config::parse(&big)
        .unwrap_err()
        .to_string()
        .contains("1 MiB"));
}

#[test]
fn new_keys_parse_with_their_defaults_and_ranges() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.providers[0].max_stale_s, 86_400);
    assert!(!c.providers[0].algorithms_listed);
    assert_eq!(c.ambiguous_paths, AmbiguousPaths::Strictest);
    assert_eq!(c.method_override, MethodOverride::Judge);
    assert!(c.forward_provider_header.is_none());
    let with = |provider_extra: &str, extra: &str| {
        parse(&format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"{provider_extra}}},
               {{"name":"q","issuer":"https://q/","audiences":["a"],"jwks_cluster":"c"}}]{extra}}}"#
        ))
    };
    let c = with(
        r#","max_stale_s":2592000,"algorithms":["RS256"]"#,
        r#","ambiguous_paths":"reject","method_override":"strip","forward_provider_header":"X-Provider",
           "rules":[{"prefix":"/a","providers":["q","p"]}]"#,
    )
    .unwrap();
    assert_eq!(c.providers[0].max_stale_s, 2_592_000);
    assert!(c.providers[0].algorithms_listed);
    assert_eq!(c.ambiguous_paths, AmbiguousPaths::Reject);
    assert_eq!(c.rules[0].providers, Some(vec![1, 0]));
    assert_eq!(c.forward_provider_header.as_deref(), Some("x-provider"));
    let managed: Vec<&str> = c.managed_headers().collect();
    assert!(managed.contains(&"x_provider") && managed.contains(&"x_http_method_override"));
    assert_eq!(c.method_override_headers().count(), 0);
    for (provider_extra, extra, field) in [
        (
            r#","max_stale_s":0"#,
            "",
            "providers[p].max_stale_s: must be 1-2592000",
        ),
        (r#","max_stale_s":2592001"#, "", "providers[p].max_stale_s"),
        (
            "",
            r#","rules":[{"prefix":"/a","providers":["nope"]}]"#,
            "rules[0].providers: unknown provider \"nope\"",
        ),
        (
            "",
            r#","rules":[{"prefix":"/a","providers":[]}]"#,
            "rules[0].providers",
        ),
        ("", r#","ambiguous_paths":"maybe""#, "ambiguous_paths"),
        ("", r#","method_override":"allow""#, "method_override"),
        (
            "",
            r#","forward_claims":{"sub":"x-sub"},"forward_provider_header":"X_SUB""#,
            "forward_provider_header",
        ),
        (
            "",
            r#","forward_claims":{"sub":"a-b-c-d-e-f-g-h"}"#,
            "forward_claims.sub",
        ),
    ] {
        let e = with(provider_extra, extra).unwrap_err();
        assert!(e.to_string().contains(field), "{extra} -> {e}");
    }
    let e = with(r#","max_stale_s":0"#, "").unwrap_err();
    assert_eq!(e.field, "providers[p].max_stale_s");
    assert_eq!(
        e.kind,
        ConfigErrorKind::OutOfRange {
            min: 1,
            max: 2_592_000
        }
    );
}

#[test]
fn provider_and_rule_keys_of_real_identity_providers() {
    let c = parse(
        r#"{"providers":[
             {"name":"kc","issuer":"https://sso.test/realms/prod","audiences":["api"],"discovery":true,
              "jwks_cluster":"kc","discovery_cluster":"kc-meta","clients":["spa"],"profile":"rfc9068"},
             {"name":"a0","issuers":["https://login.test/","https://t.auth0.test/"],"audiences":["api"],
              "jwks_cluster":"a0"}],
           "token_sources":[{"cookie":"at"},{"header":"X-Token"}],
           "rules":[{"prefix":"/a","mode":"report","claims":[{"claim":"tier","equals":"gold"}]}]}"#,
    )
    .unwrap();
    let kc = &c.providers[0];
    let KeySource::Discovered(d) = &kc.keys else {
        panic!("discovery expected")
    };
    assert_eq!(d.discovery_cluster, "kc-meta");
    assert_eq!(d.jwks_cluster, "kc");
    assert_eq!(
        d.plan.openid.path,
        "/realms/prod/.well-known/openid-configuration"
    );
    assert_eq!(kc.clients, ["spa"]);
    assert_eq!(kc.profile, crate::profile::Profile::Rfc9068);
    assert_eq!(
        c.provider_for("https://t.auth0.test/").map(|(i, _)| i),
        Some(1)
    );
    assert_eq!(
        c.provider_for("https://login.test/").map(|(i, _)| i),
        Some(1)
    );
    assert_eq!(c.providers[1].issuer, "https://login.test/");
    assert_eq!(c.token_headers(), ["cookie", "x-token"]);
    assert_eq!(c.rules[0].mode, Mode::Report);
    assert!(c.has_claim_rules());
    let defaults = parse(MINIMAL).unwrap();
    assert_eq!(defaults.token_headers(), ["authorization"]);
    assert_eq!(defaults.rules.len(), 0);
    assert_eq!(defaults.providers[0].profile, crate::profile::Profile::Any);
}

#[test]
fn errors_of_real_identity_provider_keys_name_the_field() {
    let p = |extra: &str| {
        format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"{extra}}}]}}"#
        )
    };
    let top = |extra: &str| {
        format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}}],{extra}}}"#
        )
    };
    let cases = [
        (p(r#","discovery":true,"jwks_uri":"https://i/k""#), "providers[p].jwks_uri"),
        (p(r#","discovery_cluster":"m""#), "providers[p].discovery_cluster"),
        (p(r#","issuers":["https://j/"]"#), "providers[p].issuers"),
        (p(r#","profile":"strict""#), "providers[p].profile"),
        (p(r#","clients":[]"#), "providers[p].clients"),
        (
            r#"{"providers":[{"name":"p","issuers":["https://a/","https://b/"],"audiences":["a"],"jwks_cluster":"c","discovery":true}]}"#.into(),
            "providers[p].discovery",
        ),
        (
            r#"{"providers":[{"name":"p","issuer":"https://a/","audiences":["a"],"jwks_cluster":"c"},
                {"name":"q","issuers":["https://b/","https://a/"],"audiences":["a"],"jwks_cluster":"c"}]}"#.into(),
            "providers[1].issuers",
        ),
        (
            top(r#""token_sources":[{"header":"x-sub"}],"forward_claims":{"sub":"X-Sub"}"#),
            "token_sources[0].header",
        ),
        (
            top(r#""rules":[{"prefix":"/","mode":"audit"}]"#),
            "rules[0].mode",
        ),
        (
            top(r#""rules":[{"prefix":"/","allow_anonymous":true,"claims":[{"claim":"a","exists":true}]}]"#),
            "rules[0].claims",
        ),
    ];
    for (json, field) in cases {
        let e = parse(&json).unwrap_err();
        assert!(e.field.starts_with(field), "{json} -> {e}");
    }
}

#[test]
fn shape_errors_name_the_field() {
    let e = parse(
        r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}],
            "rules":[{"prefix":"/a"},{"prefix":"/b","allow_anonymous":1}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.field, "rules[1].allow_anonymous", "{e}");
    let e = parse(
        r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c","max_stale_s":"1d"}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.field, "providers[0].max_stale_s", "{e}");
    assert_eq!(parse("{} x").unwrap_err().field, "configuration");
    assert_eq!(parse("[]").unwrap_err().field, "configuration");
}
