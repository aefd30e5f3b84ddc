//! Every configuration key the parser accepts has its row in the reference
//! (docs/src/configuration.md): a table line starting `| `key` |`. The keys are read off
//! the raw structs' JSON schema (schemars, test-only), so a field added to any of them is
//! a key the reference must describe.

use super::raw::RawConfig;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every key of every object `schema` describes, nested ones included.
fn keys(schema: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    out.extend(properties.keys().cloned());
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(schema, &mut out);
    out
}

/// The keys the reference has a row for.
fn documented(page: &str) -> BTreeSet<String> {
    page.lines()
        .filter_map(|line| line.strip_prefix("| `")?.split_once("` |"))
        .map(|(key, _)| key.to_string())
        .collect()
}

#[test]
fn every_accepted_key_is_in_the_reference() {
    let schema = serde_json::to_value(schemars::schema_for!(RawConfig)).unwrap();
    let accepted = keys(&schema);
    let reference = documented(include_str!("../../docs/src/configuration.md"));
    let missing: Vec<&String> = accepted.difference(&reference).collect();
    assert!(
        missing.is_empty(),
        "keys the parser accepts without a row in docs/src/configuration.md: {missing:?}"
    );
}

#[test]
fn the_key_list_is_complete_and_the_check_can_fail() {
    let schema = serde_json::to_value(schemars::schema_for!(RawConfig)).unwrap();
    let accepted = keys(&schema);
    // One key of each raw struct: top level, provider, rule, claims condition, token
    // source, resource metadata.
    for key in [
        "clock_skew_s",
        "jwks_cluster",
        "allow_anonymous",
        "contains",
        "cookie",
    ] {
        assert!(accepted.contains(key), "{key} not found in {accepted:?}");
    }
    assert!(accepted.contains("dpop_bound_access_tokens_required"));
    let reference = documented("| `clock_skew_s` | 60 | … |\n|---|\n| `x` | y |\n");
    assert_eq!(
        reference,
        BTreeSet::from(["clock_skew_s".into(), "x".into()])
    );
    assert!(!accepted.is_subset(&reference));
}
