//! Each matcher on its own: paths, templates, hosts, route names and rule names.

use crate::policy::matcher::*;
use crate::policy::template::UriTemplate;

fn tpl(t: &str) -> PathMatcher {
    PathMatcher::Template(UriTemplate::parse(t).unwrap())
}

#[test]
fn each_path_matcher_on_its_own_terms() {
    let exact = PathMatcher::Exact("/users/me".into());
    assert!(exact.matches(b"/users/me", false));
    assert!(!exact.matches(b"/users/me/", false));
    assert!(!exact.matches(b"/users/m", false));
    assert!(exact.matches(b"/Users/ME", true));
    let prefix = PathMatcher::Prefix("/api".into());
    assert!(prefix.matches(b"/apix", false));
    let sep = PathMatcher::SeparatedPrefix("/api".into());
    assert!(sep.matches(b"/api", false));
    assert!(sep.matches(b"/api/", false));
    assert!(sep.matches(b"/api/x", false));
    assert!(!sep.matches(b"/apix", false));
    assert!(!sep.matches(b"/ap", false));
    assert!(sep.matches(b"/API/x", true));
    assert!(!sep.matches(b"/API/x", false));
    assert!(tpl("/users/{id}").matches(b"/users/7", false));
    assert_eq!(sep.key(), "path_separated_prefix");
    assert_eq!(tpl("/a/**").text(), "/a/**");
}

#[test]
fn path_values_are_checked() {
    assert!(check_path("path", "/a").is_ok());
    assert!(check_path("path", "a").is_err());
    assert!(check_path("path", "/a?b").is_err());
    assert!(check_path("path", "/a#b").is_err());
    assert!(check_path("path", "/").is_ok());
    assert!(check_path("path_separated_prefix", "/api/").is_err());
    assert!(check_path("path_separated_prefix", "/").is_err());
    assert!(check_path("path_separated_prefix", "/api").is_ok());
}

#[test]
fn route_names_exact_or_prefix() {
    let exact = RouteNamePattern::parse("orders-admin").unwrap();
    assert!(exact.matches("orders-admin"));
    assert!(!exact.matches("orders-admin-2"));
    assert!(!exact.matches(""));
    let prefix = RouteNamePattern::parse("httproute/default/orders/*").unwrap();
    assert!(prefix.matches("httproute/default/orders/rule/0/match/0"));
    assert!(!prefix.matches("httproute/default/other/rule/0"));
    let any = RouteNamePattern::parse("*").unwrap();
    assert!(any.matches("") && any.matches("x"));
    for bad in ["", "a*b", "**", "a\nb"] {
        assert!(RouteNamePattern::parse(bad).is_err(), "{bad:?}");
    }
    assert!(RouteNamePattern::parse(&"a".repeat(257)).is_err());
}

#[test]
fn rule_names() {
    for good in ["admin", "orders.admin-v2_x", "A", &"a".repeat(64)] {
        assert!(valid_rule_name(good), "{good}");
    }
    for bad in ["", "a b", "a/b", "é", "a*", &"a".repeat(65)] {
        assert!(!valid_rule_name(bad), "{bad}");
    }
}

fn keys() -> MatcherKeys {
    MatcherKeys::default()
}

fn refused(k: MatcherKeys) -> MatcherError {
    Matchers::from_keys(k).unwrap_err()
}

#[test]
fn one_path_matcher_per_rule() {
    let e = refused(MatcherKeys {
        prefix: Some("/a".into()),
        uri_template: Some("/a/{x}".into()),
        ..keys()
    });
    assert_eq!(e.key, "uri_template");
    assert!(e.message.contains("prefix is also given"), "{}", e.message);
    let e = refused(MatcherKeys {
        path: Some("/a".into()),
        path_separated_prefix: Some("/a".into()),
        ..keys()
    });
    assert_eq!(e.key, "path_separated_prefix");
}

#[test]
fn errors_name_the_key_and_entry() {
    let e = refused(MatcherKeys {
        uri_template: Some("/a/{x".into()),
        ..keys()
    });
    assert_eq!(e.key, "uri_template");
    assert!(e.message.contains("unbalanced braces"), "{}", e.message);
    let e = refused(MatcherKeys {
        hosts: Some(vec!["a.com".into(), "a..com".into()]),
        ..keys()
    });
    assert_eq!(e.key, "hosts[1]");
    let e = refused(MatcherKeys {
        hosts: Some(vec![]),
        ..keys()
    });
    assert_eq!(e.key, "hosts");
    let e = refused(MatcherKeys {
        route_names: Some(vec!["a*b".into()]),
        ..keys()
    });
    assert_eq!(e.key, "route_names[0]");
    let e = refused(MatcherKeys {
        name: Some("a b".into()),
        ..keys()
    });
    assert_eq!(e.key, "name");
    let e = refused(MatcherKeys {
        path: Some("a".into()),
        ..keys()
    });
    assert_eq!(e.key, "path");
}

#[test]
fn a_rule_needs_a_matcher_or_a_name() {
    let e = refused(keys());
    assert_eq!(e.key, "");
    assert!(e.message.contains(r#""prefix": "/""#), "{}", e.message);
    let named = Matchers::from_keys(MatcherKeys {
        name: Some("admin".into()),
        ..keys()
    })
    .unwrap();
    assert!(named.matches_nothing());
    assert!(!named.matches(b"/", None, "", false));
    let everything = Matchers::from_keys(MatcherKeys {
        prefix: Some("/".into()),
        ..keys()
    })
    .unwrap();
    assert!(everything.matches(b"/x", None, "", false));
}

#[test]
fn every_given_key_must_match() {
    let m = Matchers::from_keys(MatcherKeys {
        path_separated_prefix: Some("/orders".into()),
        hosts: Some(vec!["api.a.com".into(), "*.b.com".into()]),
        route_names: Some(vec!["orders*".into()]),
        ..keys()
    })
    .unwrap();
    assert!(m.matches(b"/orders/1", Some("api.a.com"), "orders-get", false));
    assert!(m.matches(b"/orders", Some("x.b.com"), "orders", false));
    assert!(!m.matches(b"/ordersx", Some("api.a.com"), "orders", false));
    assert!(!m.matches(b"/orders", Some("api.c.com"), "orders", false));
    assert!(!m.matches(b"/orders", None, "orders", false));
    assert!(!m.matches(b"/orders", Some("api.a.com"), "other", false));
    let hosts_only = Matchers::from_keys(MatcherKeys {
        hosts: Some(vec!["api.a.com".into()]),
        ..keys()
    })
    .unwrap();
    assert!(hosts_only.matches(b"/anything", Some("api.a.com"), "", false));
}
