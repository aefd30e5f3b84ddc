//! Rule `claims`: conditions on a verified token's claims beyond scopes. Each entry names a
//! claim (top-level, taken literally, or a nested `path`) and holds exactly one test:
//! `equals`, `in`, `contains` or `exists`. No regex: the cost stays linear in the token.

use crate::config::error::{invalid, ConfigError};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Most entries in one rule's `claims`.
pub const MAX_CLAIM_RULES: usize = 32;
/// Most segments in a `path`.
pub const MAX_PATH_DEPTH: usize = 8;
/// Most values in an `in` list.
pub const MAX_IN_VALUES: usize = 64;
/// Longest claim name or path segment.
const MAX_NAME_LEN: usize = 256;

/// One `claims` entry as written in the configuration.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawClaimRule {
    claim: Option<String>,
    path: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    equals: Option<Value>,
    #[serde(rename = "in")]
    in_: Option<Vec<Value>>,
    #[serde(default, deserialize_with = "present")]
    contains: Option<Value>,
    exists: Option<bool>,
}

/// Tells a key given as `null` (`Some(Value::Null)`) from an absent key (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A validated condition on one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRule {
    /// The claim: one name for a top-level claim, several for a nested one.
    pub path: Vec<String>,
    /// What must hold.
    pub test: Test,
}

/// What a claim must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// Equal to this JSON value (numbers compared by value).
    Equals(Value),
    /// Equal to one of these values.
    In(Vec<Value>),
    /// An array holding this value, or a space-separated string holding this word.
    Contains(Value),
    /// Present (and not `null`), or absent.
    Exists(bool),
}

impl ClaimRule {
    /// Validates one entry; `at` names it in errors (e.g. `rules[2].claims[0]`).
    pub fn from_raw(raw: RawClaimRule, at: &str) -> Result<ClaimRule, ConfigError> {
        let path = match (raw.claim, raw.path) {
            (Some(name), None) => vec![name],
            (None, Some(path)) if (1..=MAX_PATH_DEPTH).contains(&path.len()) => path,
            (None, Some(_)) => {
                return invalid(
                    format!("{at}.path"),
                    format!("give 1-{MAX_PATH_DEPTH} names"),
                )
            }
            _ => return invalid(at, "give exactly one of claim or path"),
        };
        let field = if path.len() == 1 { "claim" } else { "path" };
        if let Some(bad) = path.iter().find(|n| !valid_name(n)) {
            return invalid(format!("{at}.{field}"), format!("{bad:?} is not a claim name (1-{MAX_NAME_LEN} visible ASCII characters, no quotes or backslashes)"
            ));
        }
        let tests = [
            raw.equals.map(|v| ("equals", Test::Equals(v))),
            raw.in_.map(|v| ("in", Test::In(v))),
            raw.contains.map(|v| ("contains", Test::Contains(v))),
            raw.exists.map(|v| ("exists", Test::Exists(v))),
        ];
        let mut given = tests.into_iter().flatten();
        let (Some((key, test)), None) = (given.next(), given.next()) else {
            return invalid(at, "give exactly one of equals, in, contains or exists");
        };
        match &test {
            Test::Equals(Value::Null) | Test::Contains(Value::Null) => {
                return invalid(
                    format!("{at}.{key}"),
                    "null is not a claim value; use exists",
                )
            }
            Test::Contains(Value::Array(_) | Value::Object(_)) => {
                return invalid(
                    format!("{at}.contains"),
                    "give one string, number or boolean",
                )
            }
            Test::In(values) if values.is_empty() || values.len() > MAX_IN_VALUES => {
                return invalid(format!("{at}.in"), format!("give 1-{MAX_IN_VALUES} values"))
            }
            Test::In(values) if values.iter().any(Value::is_null) => {
                return invalid(format!("{at}.in"), "null is not a claim value; use exists")
            }
            _ => {}
        }
        Ok(ClaimRule { path, test })
    }

    /// Whether `claims` (the token's payload) satisfy this condition.
    pub fn holds(&self, claims: &Map<String, Value>) -> bool {
        let value = self.lookup(claims).filter(|v| !v.is_null());
        match (&self.test, value) {
            (Test::Exists(wanted), v) => v.is_some() == *wanted,
            (_, None) => false,
            (Test::Equals(expected), Some(v)) => same(v, expected),
            (Test::In(options), Some(v)) => options.iter().any(|o| same(v, o)),
            (Test::Contains(item), Some(Value::Array(items))) => {
                items.iter().any(|i| same(i, item))
            }
            (Test::Contains(Value::String(word)), Some(Value::String(words))) => {
                words.split(' ').any(|w| w == word)
            }
            (Test::Contains(_), Some(_)) => false,
        }
    }

    /// The claim's name for a client-facing description: never its value.
    pub fn name(&self) -> String {
        self.path.join(".")
    }

    /// The claim's value in `claims`, if present.
    fn lookup<'c>(&self, claims: &'c Map<String, Value>) -> Option<&'c Value> {
        let (first, rest) = self.path.split_first()?;
        let mut value = claims.get(first)?;
        for name in rest {
            value = value.get(name.as_str())?;
        }
        Some(value)
    }
}

/// Validates a rule's `claims` list; `at` names the rule (e.g. `rules[2]`).
pub fn rules_from_raw(raw: Vec<RawClaimRule>, at: &str) -> Result<Vec<ClaimRule>, ConfigError> {
    if raw.len() > MAX_CLAIM_RULES {
        return invalid(
            format!("{at}.claims"),
            format!("at most {MAX_CLAIM_RULES} entries"),
        );
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| ClaimRule::from_raw(r, &format!("{at}.claims[{i}]")))
        .collect()
}

/// JSON equality, with numbers compared by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

/// A claim name usable in a quoted `WWW-Authenticate` description.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(entry: Value) -> Result<ClaimRule, String> {
        let raw: RawClaimRule = serde_json::from_value(entry).map_err(|e| e.to_string())?;
        ClaimRule::from_raw(raw, "rules[0].claims[0]").map_err(|e| e.to_string())
    }

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    fn token() -> Map<String, Value> {
        claims(json!({
            "iss": "https://t/", "sub": "auth0|42", "aud": ["https://api", "https://t/userinfo"],
            "exp": 2000000000, "scope": "read:a write:b",
            "https://example.com/roles": ["admin", "ops"],
            "org": {"tier": "gold", "seats": 12, "beta": true, "flags": {"x": null}},
            "email_verified": true, "level": 3
        }))
    }

    fn holds(entry: Value) -> bool {
        rule(entry.clone())
            .unwrap_or_else(|e| panic!("{entry}: {e}"))
            .holds(&token())
    }

    #[test]
    fn equals_in_contains_exists() {
        assert!(holds(json!({"claim": "email_verified", "equals": true})));
        assert!(!holds(json!({"claim": "email_verified", "equals": "true"})));
        assert!(holds(json!({"claim": "level", "equals": 3.0})));
        assert!(holds(
            json!({"claim": "sub", "in": ["auth0|41", "auth0|42"]})
        ));
        assert!(!holds(json!({"claim": "sub", "in": ["auth0|4"]})));
        assert!(holds(
            json!({"claim": "https://example.com/roles", "contains": "admin"})
        ));
        assert!(!holds(
            json!({"claim": "https://example.com/roles", "contains": "adm"})
        ));
        assert!(holds(json!({"claim": "scope", "contains": "write:b"})));
        assert!(!holds(json!({"claim": "scope", "contains": "write"})));
        assert!(!holds(
            json!({"claim": "scope", "contains": "read:a write:b"})
        ));
        assert!(!holds(json!({"claim": "level", "contains": 3})));
        assert!(holds(json!({"claim": "aud", "contains": "https://api"})));
        assert!(holds(json!({"claim": "iss", "equals": "https://t/"})));
        assert!(holds(json!({"claim": "exp", "equals": 2000000000})));
        assert!(holds(json!({"claim": "org", "exists": true})));
        assert!(holds(json!({"claim": "missing", "exists": false})));
        assert!(!holds(json!({"claim": "missing", "exists": true})));
        assert!(!holds(json!({"claim": "missing", "equals": 1})));
        assert!(!holds(json!({"claim": "nbf", "exists": true})));
    }

    #[test]
    fn nested_paths_and_literal_names() {
        assert!(holds(
            json!({"path": ["org", "tier"], "in": ["gold", "platinum"]})
        ));
        assert!(holds(json!({"path": ["org", "seats"], "equals": 12})));
        assert!(holds(
            json!({"path": ["org", "flags", "x"], "exists": false})
        ));
        assert!(!holds(
            json!({"path": ["org", "tier", "x"], "exists": true})
        ));
        assert!(!holds(json!({"path": ["org", "tier"], "equals": "silver"})));
        // `claim` is literal: a dotted name is one top-level claim, not a path.
        assert!(!holds(json!({"claim": "org.tier", "exists": true})));
        let dotted = claims(json!({"org.tier": "gold"}));
        assert!(rule(json!({"claim": "org.tier", "equals": "gold"}))
            .unwrap()
            .holds(&dotted));
        let r = rule(json!({"path": ["org", "tier"], "equals": "x"})).unwrap();
        assert_eq!(r.name(), "org.tier");
    }

    #[test]
    fn an_unmet_condition_names_the_claim() {
        let raw: Vec<RawClaimRule> = serde_json::from_value(json!([
            {"claim": "email_verified", "equals": true},
            {"claim": "https://example.com/roles", "contains": "root"}
        ]))
        .unwrap();
        let rules = rules_from_raw(raw, "rules[1]").unwrap();
        let unmet: Vec<String> = rules
            .iter()
            .filter(|r| !r.holds(&token()))
            .map(ClaimRule::name)
            .collect();
        assert_eq!(unmet, ["https://example.com/roles"]);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                json!({"equals": 1}),
                "rules[0].claims[0]: give exactly one of claim or path",
            ),
            (
                json!({"claim": "a", "path": ["a"], "equals": 1}),
                "exactly one of claim or path",
            ),
            (
                json!({"claim": "a"}),
                "rules[0].claims[0]: give exactly one of equals",
            ),
            (
                json!({"claim": "a", "equals": 1, "exists": true}),
                "exactly one of equals",
            ),
            (
                json!({"claim": "a", "equals": null}),
                "rules[0].claims[0].equals: null",
            ),
            (
                json!({"claim": "a", "contains": null}),
                "claims[0].contains: null",
            ),
            (
                json!({"claim": "a", "contains": ["x"]}),
                "claims[0].contains",
            ),
            (json!({"claim": "a", "in": []}), "claims[0].in"),
            (json!({"claim": "a", "in": [1, null]}), "claims[0].in"),
            (json!({"claim": "", "exists": true}), "claims[0].claim"),
            (json!({"claim": "a\"b", "exists": true}), "claims[0].claim"),
            (json!({"path": [], "exists": true}), "claims[0].path"),
            (
                json!({"path": ["a", "b c"], "exists": true}),
                "claims[0].path",
            ),
            (json!({"claim": "a", "regex": "x"}), "unknown field `regex`"),
        ];
        for (entry, expected) in cases {
            let e = rule(entry.clone()).unwrap_err();
            assert!(e.contains(expected), "{entry} -> {e}");
        }
        let many = (0..=MAX_CLAIM_RULES)
            .map(|_| serde_json::from_value(json!({"claim": "a", "exists": true})).unwrap())
            .collect();
        assert!(rules_from_raw(many, "rules[3]")
            .unwrap_err()
            .field
            .starts_with("rules[3].claims"));
    }
}
