//! Rules over hosts, route names, rule names and URI templates, and the errors of their keys.

use super::config;
use crate::config::Config;
use crate::policy::*;

/// Rules over the new matchers, after the shared ones; `lax`, `strict` and `quiet` apply
/// only where a route names them.
fn routed() -> Config {
    let rules = r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"},
                                 {"name":"q","issuer":"https://j/","audiences":["a"],"jwks_cluster":"c"}],
        "rules":[{"uri_template":"/users/{id}/admin","scopes":["admin"]},
                 {"path":"/users/me","allow_anonymous":true},
                 {"path_separated_prefix":"/open","allow_anonymous":true},
                 {"hosts":["*.tenant-b.test"],"scopes":["b"],"providers":["q"]},
                 {"hosts":["public.test"],"allow_anonymous":true},
                 {"route_names":["reports-*"],"scopes":["reports"]},
                 {"uri_template":"/orders/{id}/receipt","scopes":["orders:read"]},
                 {"name":"lax","allow_anonymous":true},
                 {"name":"strict","scopes":["s"],"providers":["p"]},
                 {"name":"quiet","mode":"report","allow_anonymous":true}]}"#;
    Config::parse(rules.as_bytes()).unwrap()
}

fn on(cfg: &Config, path: &str, route: Route<'_>) -> Requirement {
    requirement(cfg, "GET", path, &[], &route).unwrap()
}

fn host(authority: &str) -> Route<'_> {
    Route {
        authority: Some(authority),
        ..Route::default()
    }
}

fn named(rule: &str) -> Route<'_> {
    Route {
        rule: Some(rule),
        ..Route::default()
    }
}

#[test]
fn templates_are_judged_on_every_reading() {
    let cfg = routed();
    for path in [
        "/users/42/admin",
        "/users/42%2Fx/admin",
        "/users/42/x/../admin",
        "/users/me/%2e%2e/42/admin",
        "/users/me%2F..%2F42%2Fadmin",
        "/Users/42/ADMIN",
        "/users/42;x=1/admin",
        "/open/..%2Fusers%2F42%2Fadmin",
    ] {
        let n = on(&cfg, path, Route::default());
        assert!(!n.allow_anonymous, "{path}");
        assert_eq!(n.scopes, ["admin"], "{path}");
    }
    assert!(on(&cfg, "/users/me", Route::default()).allow_anonymous);
    assert!(!on(&cfg, "/users/me/", Route::default()).allow_anonymous);
    assert!(on(&cfg, "/open", Route::default()).allow_anonymous);
    assert!(on(&cfg, "/open/x", Route::default()).allow_anonymous);
    assert!(!on(&cfg, "/openx", Route::default()).allow_anonymous);
    assert!(!on(&cfg, "/OPEN", Route::default()).allow_anonymous);
}

#[test]
fn hosts_are_matched_without_case_port_or_trailing_dots() {
    let cfg = routed();
    for authority in [
        "api.tenant-b.test",
        "API.Tenant-B.test:8443",
        "a.b.tenant-b.test..",
    ] {
        let n = on(&cfg, "/x", host(authority));
        assert_eq!(n.scopes, ["b"], "{authority}");
        assert_eq!(n.providers, Some(vec![1]), "{authority}");
    }
    assert!(on(&cfg, "/x", host("tenant-b.test")).scopes.is_empty());
    assert!(on(&cfg, "/x", host("public.test:80")).allow_anonymous);
    assert!(!on(&cfg, "/x", host("public.test.evil")).allow_anonymous);
    // Not read (no `:authority`): only `*` could match.
    assert!(!on(&cfg, "/x", Route::default()).allow_anonymous);
    // A path rule earlier in the list still wins on its reading.
    assert_eq!(
        on(&cfg, "/users/42%2Fx/admin", host("public.test")).scopes,
        ["admin"]
    );
}

#[test]
fn route_names_bind_the_route_envoy_chose() {
    let cfg = routed();
    let name = |n| Route {
        name: Some(n),
        ..Route::default()
    };
    assert_eq!(
        on(&cfg, "/rpts/1", name("reports-regex")).scopes,
        ["reports"]
    );
    assert!(on(&cfg, "/rpts/1", name("report")).scopes.is_empty());
    assert!(on(&cfg, "/rpts/1", Route::default()).scopes.is_empty());
}

#[test]
fn a_named_rule_applies_and_combines_strictest() {
    let cfg = routed();
    // Alone: it decides, the default (token needed) does not apply.
    let n = on(&cfg, "/status", named("lax"));
    assert!(n.allow_anonymous);
    // A lax named rule does not loosen a strict path rule.
    let n = on(&cfg, "/orders/7/receipt", named("lax"));
    assert!(!n.allow_anonymous);
    assert_eq!(n.scopes, ["orders:read"]);
    let n = on(&cfg, "/orders/7%2Fx/receipt", named("lax"));
    assert_eq!(n.scopes, ["orders:read"]);
    // A strict named rule tightens a lax path rule, and providers intersect.
    let n = on(&cfg, "/users/me", named("strict"));
    assert!(!n.allow_anonymous);
    assert_eq!(n.scopes, ["s"]);
    let n = requirement(
        &cfg,
        "GET",
        "/x",
        &[],
        &Route {
            authority: Some("api.tenant-b.test"),
            rule: Some("strict"),
            ..Route::default()
        },
    )
    .unwrap();
    assert_eq!(n.scopes, ["b", "s"]);
    assert_eq!(n.providers, Some(vec![]));
    // Report only when every rule that applies reports.
    assert!(on(&cfg, "/status", named("quiet")).report);
    assert!(!on(&cfg, "/users/42/admin", named("quiet")).report);
    // A name-only rule matches nothing by itself.
    assert!(!on(&cfg, "/status", Route::default()).allow_anonymous);
}

#[test]
fn a_route_naming_an_unknown_rule_is_refused() {
    let cfg = routed();
    for name in ["nope", "", "LAX", "\0\0\0\0\0\0\u{14}@"] {
        assert_eq!(
            requirement(&cfg, "GET", "/users/me", &[], &named(name)),
            Err(Denial::UnknownRouteRule(name.to_string())),
            "{name:?}"
        );
    }
    // Even where the path could not be judged.
    let long = format!("/x/{}", "%41".repeat(paths::MAX_JUDGED_PATH));
    assert!(matches!(
        requirement(&cfg, "GET", &long, &[], &named("nope")),
        Err(Denial::UnknownRouteRule(_))
    ));
}

#[test]
fn route_facts_are_read_only_when_rules_need_them() {
    use super::RouteNeeds;
    assert_eq!(config("").route_needs, RouteNeeds::default());
    assert_eq!(
        routed().route_needs,
        RouteNeeds {
            authority: true,
            name: true,
            rule: true
        }
    );
}

#[test]
fn rule_key_errors_name_the_field() {
    let err = |rules: &str| {
        let cfg = format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}}],"rules":{rules}}}"#
        );
        Config::parse(cfg.as_bytes()).unwrap_err().to_string()
    };
    for (rules, want) in [
        (
            r#"[{"prefix":"/a","uri_template":"/a/{x}"}]"#,
            "rules[0].uri_template: at most one of",
        ),
        (
            r#"[{"path":"/a","prefix":"/a"}]"#,
            "rules[0].prefix: at most one of",
        ),
        (
            r#"[{"uri_template":"/a/{x"}]"#,
            "rules[0].uri_template: \"/a/{x\": unbalanced braces",
        ),
        (r#"[{"uri_template":"/a/**/b"}]"#, "must come last"),
        (
            r#"[{"uri_template":"/{x}/{x}"}]"#,
            "repeated variable name \"x\"",
        ),
        (
            r#"[{"hosts":["a.test","a..b"]}]"#,
            "rules[0].hosts[1]: \"a..b\" is not a host name",
        ),
        (
            r#"[{"hosts":[]}]"#,
            "rules[0].hosts: must list at least one",
        ),
        (r#"[{"route_names":["a*b"]}]"#, "rules[0].route_names[0]"),
        (
            r#"[{"prefix":"/","name":"x"},{"name":"x"}]"#,
            "rules[1].name: rule name \"x\" is also rules[0].name",
        ),
        (r#"[{"name":"a b"}]"#, "rules[0].name: \"a b\" is not"),
        (r#"[{"scopes":["s"]}]"#, "rules[0]: a rule needs a matcher"),
        (
            r#"[{"methods":["GET"]}]"#,
            "rules[0]: a rule needs a matcher",
        ),
        (
            r#"[{"path_separated_prefix":"/api/"}]"#,
            "rules[0].path_separated_prefix: must not end",
        ),
        (r#"[{"path":"api"}]"#, "rules[0].path: must start with '/'"),
        (
            r#"[{"prefix":"api"}]"#,
            "rules[0].prefix: must start with '/'",
        ),
        (r#"[{"prefix":"/","hosts":"a.test"}]"#, "rules[0].hosts"),
    ] {
        let e = err(rules);
        assert!(e.contains(want), "{rules}: {e}");
    }
    // An explicit catch-all and a name-only rule are fine.
    let ok = r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}],
        "rules":[{"prefix":"/"},{"name":"only-a-name","scopes":["x"]}]}"#;
    assert!(Config::parse(ok.as_bytes()).is_ok());
}

#[test]
fn choices_explain_the_requirement() {
    let cfg = routed();
    let route = Route {
        authority: Some("API.tenant-b.test."),
        rule: Some("lax"),
        ..Route::default()
    };
    let c = choices(&cfg, "get", "/users/42%2Fx/admin", &[], &route).unwrap();
    assert_eq!(c.named, Some(7));
    let raw = c
        .each
        .iter()
        .find(|x| x.reading == b"/users/42%2Fx/admin" && !x.folded && x.method == "get")
        .unwrap();
    assert_eq!(raw.rule, Some(0));
    assert_eq!(raw.host.as_deref(), Some("api.tenant-b.test."));
    let decoded = c
        .each
        .iter()
        .find(|x| {
            x.reading == b"/users/42/x/admin" && x.host.as_deref() == Some("api.tenant-b.test")
        })
        .unwrap();
    assert_eq!(decoded.rule, Some(3));
    assert!(c.each.iter().any(|x| x.method == "GET"));
    assert!(matches!(
        choices(&cfg, "GET", "/", &[], &named("nope")),
        Err(Denial::UnknownRouteRule(_))
    ));
}
