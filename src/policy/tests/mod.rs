//! Policy tests: rule choice over every reading of path and method; the route-level
//! matchers in [`routes`], each matcher on its own in [`matchers`].

mod matchers;
mod routes;

use super::paths::{self, readings};
use super::*;
use crate::config::Config;

fn config(extra: &str) -> Config {
    let cfg = format!(
        r#"{{"providers":[{{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}},
                          {{"name":"q","issuer":"https://j/","audiences":["a"],"jwks_cluster":"c"}}],
          "rules":[{{"prefix":"/healthz","allow_anonymous":true}},
                   {{"prefix":"/public/","allow_anonymous":true}},
                   {{"prefix":"/admin","methods":["POST","DELETE"],"scopes":["write:admin"]}},
                   {{"prefix":"/admin","allow_anonymous":false}},
                   {{"prefix":"/items","methods":["GET"],"allow_anonymous":true}},
                   {{"prefix":"/tenant","providers":["q"],"scopes":["t"]}},
                   {{"prefix":"/","providers":["p","q"]}}]{extra}}}"#
    );
    Config::parse(cfg.as_bytes()).unwrap()
}

fn need(cfg: &Config, method: &str, path: &str) -> Requirement {
    requirement(cfg, method, path, &[], &Route::default()).unwrap()
}

fn text(path: &str) -> Vec<String> {
    readings(path)
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect()
}

#[test]
fn first_matching_rule_wins() {
    let cfg = config("");
    assert!(need(&cfg, "GET", "/healthz").allow_anonymous);
    assert!(need(&cfg, "GET", "/healthz/live?x=1").allow_anonymous);
    assert_eq!(need(&cfg, "POST", "/admin/users").scopes, ["write:admin"]);
    assert!(need(&cfg, "GET", "/admin/users").scopes.is_empty());
    let default = need(&cfg, "GET", "/other");
    assert!(!default.allow_anonymous && default.scopes.is_empty());
    assert_eq!(default.providers, Some(vec![0, 1]));
}

#[test]
fn path_tricks_do_not_borrow_an_anonymous_rule() {
    let cfg = config("");
    for path in [
        "/healthz/../admin",
        "/healthz/%2e%2e/admin",
        "//healthz/./../admin",
        "/healthz/..%2fadmin",
        "/healthz/..%5cadmin",
        "/healthz/..\\admin",
        "/healthz/..;/admin",
        "/healthz/..;x=1/admin",
        "/healthz/%252e%252e/admin",
        "/public/..%2Fadmin",
        "/public/%2e%2e%2fadmin",
        "/healthz/..%3b/admin",
        "/ADMIN",
        "/Admin/users",
    ] {
        let n = need(&cfg, "POST", path);
        assert!(!n.allow_anonymous, "{path}");
        assert_eq!(n.scopes, ["write:admin"], "{path}");
    }
    // Anonymous only when every reading is: the raw `/%68ealthz` matches no anonymous
    // rule, and anonymous rules do not widen by case.
    assert!(!need(&cfg, "GET", "/%68ealthz").allow_anonymous);
    assert!(need(&cfg, "GET", "/healthz/%7e").allow_anonymous);
    assert!(!need(&cfg, "GET", "/HEALTHZ").allow_anonymous);
    assert!(need(&cfg, "GET", "/public/a%20b").allow_anonymous);
}

#[test]
fn strictest_joins_scopes_and_providers() {
    let cfg = config("");
    // Raw: /public/ (anonymous); resolved: /tenant (q only, scope t).
    let n = need(&cfg, "GET", "/public/..%2ftenant");
    assert!(!n.allow_anonymous);
    assert_eq!(n.scopes, ["t"]);
    assert_eq!(n.providers, Some(vec![1]));
    assert!(n.accepts(1) && !n.accepts(0));
}

#[test]
fn reject_mode_refuses_ambiguous_paths_only() {
    let cfg = config(r#","ambiguous_paths":"reject""#);
    assert!(matches!(
        requirement(&cfg, "GET", "/healthz/..%2fadmin", &[], &Route::default()),
        Err(Denial::Ambiguous(_))
    ));
    assert!(requirement(&cfg, "GET", "/admin/%7euser", &[], &Route::default()).is_ok());
    assert!(requirement(&cfg, "GET", "/healthz/a;b", &[], &Route::default()).is_ok());
    // HEAD and overrides are judged strictest, never refused as ambiguous.
    assert!(requirement(&cfg, "HEAD", "/items", &[], &Route::default()).is_ok());
}

#[test]
fn unjudgeable_paths_are_refused() {
    let cfg = config("");
    let long = format!("/x/{}", "%41".repeat(paths::MAX_JUDGED_PATH));
    assert!(matches!(
        requirement(&cfg, "GET", &long, &[], &Route::default()),
        Err(Denial::Ambiguous(_))
    ));
    // A long plain path is fine.
    assert!(requirement(
        &cfg,
        "GET",
        &format!("/x/{}", "a".repeat(10_000)),
        &[],
        &Route::default()
    )
    .is_ok());
    let mut deep = "/".to_string();
    for _ in 0..10 {
        deep = deep.replace('%', "%25");
        deep.push_str("%2e");
    }
    assert!(matches!(
        requirement(&cfg, "GET", &deep, &[], &Route::default()),
        Err(Denial::Ambiguous(_))
    ));
}

#[test]
fn get_governs_head_and_overrides_are_strictest() {
    let cfg = config("");
    assert!(need(&cfg, "GET", "/items").allow_anonymous);
    assert!(need(&cfg, "HEAD", "/items").allow_anonymous);
    assert!(!need(&cfg, "POST", "/items").allow_anonymous);
    let over =
        |values: &[&str]| requirement(&cfg, "GET", "/items", values, &Route::default()).unwrap();
    assert!(!over(&["DELETE"]).allow_anonymous);
    assert!(!over(&["post"]).allow_anonymous);
    assert!(over(&["GET"]).allow_anonymous);
    assert!(!over(&["GET, PUT"]).allow_anonymous);
    assert_eq!(
        requirement(&cfg, "GET", "/admin", &["DELETE"], &Route::default())
            .unwrap()
            .scopes,
        ["write:admin"]
    );
    let many: Vec<String> = (0..MAX_METHODS).map(|i| format!("M{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(requirement(&cfg, "GET", "/items", &many, &Route::default()).is_err());
    // In strip mode overrides are not read (the host removes them).
    let strip = config(r#","method_override":"strip""#);
    assert!(
        requirement(&strip, "GET", "/items", &["DELETE"], &Route::default())
            .unwrap()
            .allow_anonymous
    );
}

#[test]
fn readings_cover_each_transformation() {
    assert_eq!(text("/a/b?x=/../y"), ["/a/b"]);
    let r = text("/public/..%2fadmin");
    assert!(r.contains(&"/public/..%2fadmin".to_string()));
    assert!(r.contains(&"/admin".to_string()));
    assert!(text("/a;x=1/b").contains(&"/a/b".to_string()));
    assert!(text("/x/..;/admin").contains(&"/admin".to_string()));
    assert!(text("/a\\..\\admin").contains(&"/admin".to_string()));
    assert!(text("//admin").contains(&"/admin".to_string()));
    assert!(text("/%%32%65%%32%65/admin").contains(&"/admin".to_string()));
    assert!(text("/a/%2525/b").contains(&"/a/%/b".to_string()));
}

#[test]
fn dot_segments_follow_rfc3986() {
    let r = |p: &str| String::from_utf8(paths::remove_dot_segments(p.as_bytes())).unwrap();
    assert_eq!(r("/a/b/c/./../../g"), "/a/g");
    assert_eq!(r("/a/.."), "/");
    assert_eq!(r("/a/b/."), "/a/b/");
    assert_eq!(r("/a/b/.."), "/a/");
    assert_eq!(r("/../../"), "/");
    assert_eq!(r("/a//.."), "/a/");
    assert_eq!(r("/a/"), "/a/");
    assert_eq!(r("/"), "/");
    assert_eq!(r("/.."), "/");
    assert_eq!(r("*"), "*");
}

/// The fuzz oracle's property on a fixed corpus: the applied requirement is never looser
/// than the one any single reading selects.
#[test]
fn applied_requirement_is_never_looser_than_a_reading() {
    let cfg = config("");
    let corpus = [
        "/",
        "/healthz",
        "/HEALTHZ/../admin",
        "/public/..%2fadmin",
        "/public/%2e%2e;/tenant",
        "/items/..\\admin",
        "//admin",
        "/a/%252e%252e/%252e%252e/admin",
        "/Tenant;a/x",
        "/public/x/..",
    ];
    for path in corpus {
        for method in ["GET", "HEAD", "POST", "DELETE"] {
            let applied = need(&cfg, method, path);
            for reading in readings(path).unwrap() {
                let at = Request {
                    method,
                    path: &reading,
                    host: None,
                    route: "",
                };
                let single = Requirement::of(
                    first_rule(&cfg.rules, &at, false).and_then(|i| cfg.rules.get(i)),
                );
                assert!(at_least_as_strict(&applied, &single), "{method} {path}");
            }
        }
    }
}

/// Whether `a` demands everything `b` does.
pub(super) fn at_least_as_strict(a: &Requirement, b: &Requirement) -> bool {
    (b.allow_anonymous || !a.allow_anonymous)
        && b.scopes.iter().all(|s| a.scopes.contains(s))
        && match (&a.providers, &b.providers) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => x.iter().all(|i| y.contains(i)),
        }
        && b.claims.iter().all(|c| a.claims.contains(c))
        && (b.report || !a.report)
}

#[test]
fn scopes_from_scope_string_and_permissions() {
    let claims: Claims =
        serde_json::from_str(r#"{"scope":"read:a write:b","permissions":["admin:c"]}"#).unwrap();
    let granted = granted_scopes(&claims);
    let need = |s: &[&str]| {
        let v: Vec<String> = s.iter().map(|x| x.to_string()).collect();
        missing_scopes(&v, &granted)
    };
    assert!(need(&["read:a", "admin:c"]).is_empty());
    assert_eq!(need(&["read:a", "write:c", "read"]), ["write:c", "read"]);
    let none: Claims = serde_json::from_str("{}").unwrap();
    assert_eq!(
        missing_scopes(&["x".to_string()], &granted_scopes(&none)),
        ["x"]
    );
}
