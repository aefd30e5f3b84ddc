//! Rule `claims`: conditions on a verified token's claims beyond scopes. Each entry names a
//! claim (top-level, taken literally, or a nested `path`) and holds exactly one test:
//! `equals`, `in`, `contains` or `exists`. No regex: the cost stays linear in the token.

use crate::token::Claims;
use jwt_simple::claims::Audiences;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::borrow::Cow;

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
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRule {
    /// The claim: one name for a top-level claim, several for a nested one.
    pub path: Vec<String>,
    /// What must hold.
    pub test: Test,
}

/// What a claim must satisfy.
#[derive(Debug, Clone, PartialEq)]
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
    pub fn from_raw(raw: RawClaimRule, at: &str) -> Result<ClaimRule, String> {
        let path = match (raw.claim, raw.path) {
            (Some(name), None) => vec![name],
            (None, Some(path)) if (1..=MAX_PATH_DEPTH).contains(&path.len()) => path,
            (None, Some(_)) => return Err(format!("{at}.path: give 1-{MAX_PATH_DEPTH} names")),
            _ => return Err(format!("{at}: give exactly one of claim or path")),
        };
        let field = if path.len() == 1 { "claim" } else { "path" };
        if let Some(bad) = path.iter().find(|n| !valid_name(n)) {
            return Err(format!(
                "{at}.{field}: {bad:?} is not a claim name (1-{MAX_NAME_LEN} visible ASCII characters, no quotes or backslashes)"
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
            return Err(format!(
                "{at}: give exactly one of equals, in, contains or exists"
            ));
        };
        match &test {
            Test::Equals(Value::Null) | Test::Contains(Value::Null) => {
                return Err(format!("{at}.{key}: null is not a claim value; use exists"))
            }
            Test::Contains(Value::Array(_) | Value::Object(_)) => {
                return Err(format!("{at}.contains: give one string, number or boolean"))
            }
            Test::In(values) if values.is_empty() || values.len() > MAX_IN_VALUES => {
                return Err(format!("{at}.in: give 1-{MAX_IN_VALUES} values"))
            }
            Test::In(values) if values.iter().any(Value::is_null) => {
                return Err(format!("{at}.in: null is not a claim value; use exists"))
            }
            _ => {}
        }
        Ok(ClaimRule { path, test })
    }

    /// Whether `claims` satisfy this condition.
    pub fn holds(&self, claims: &Claims) -> bool {
        let value = self.lookup(claims);
        let value = value.as_deref().filter(|v| !v.is_null());
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
    fn lookup<'c>(&self, claims: &'c Claims) -> Option<Cow<'c, Value>> {
        let (first, rest) = self.path.split_first()?;
        let mut value = top_level(claims, first)?;
        for name in rest {
            value = match value {
                Cow::Borrowed(v) => Cow::Borrowed(v.get(name.as_str())?),
                Cow::Owned(v) => Cow::Owned(v.get(name.as_str())?.clone()),
            };
        }
        Some(value)
    }
}

/// Checks every condition; returns the first that does not hold.
pub fn first_unmet<'r>(rules: &'r [ClaimRule], claims: &Claims) -> Option<&'r ClaimRule> {
    rules.iter().find(|r| !r.holds(claims))
}

/// Validates a rule's `claims` list; `at` names the rule (e.g. `rules[2]`).
pub fn rules_from_raw(raw: Vec<RawClaimRule>, at: &str) -> Result<Vec<ClaimRule>, String> {
    if raw.len() > MAX_CLAIM_RULES {
        return Err(format!("{at}.claims: at most {MAX_CLAIM_RULES} entries"));
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| ClaimRule::from_raw(r, &format!("{at}.claims[{i}]")))
        .collect()
}

/// A top-level claim: registered ones live in jwt-simple's typed fields, the rest in `custom`.
fn top_level<'c>(claims: &'c Claims, name: &str) -> Option<Cow<'c, Value>> {
    let text = |s: &Option<String>| s.as_ref().map(|s| Cow::Owned(Value::String(s.clone())));
    let date = |d: Option<jwt_simple::prelude::UnixTimeStamp>| {
        d.map(|d| Cow::Owned(Value::from(d.as_secs())))
    };
    match name {
        "iss" => text(&claims.issuer),
        "sub" => text(&claims.subject),
        "jti" => text(&claims.jwt_id),
        "nonce" => text(&claims.nonce),
        "exp" => date(claims.expires_at),
        "nbf" => date(claims.invalid_before),
        "iat" => date(claims.issued_at),
        "aud" => claims.audiences.as_ref().map(|a| {
            Cow::Owned(match a {
                Audiences::AsString(s) => Value::String(s.clone()),
                Audiences::AsSet(set) => set.iter().cloned().map(Value::String).collect(),
            })
        }),
        other => claims.custom.get(other).map(Cow::Borrowed),
    }
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
        ClaimRule::from_raw(raw, "rules[0].claims[0]")
    }

    fn claims(v: Value) -> Claims {
        serde_json::from_value(v).unwrap()
    }

    fn token() -> Claims {
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
    fn first_unmet_names_the_claim() {
        let raw: Vec<RawClaimRule> = serde_json::from_value(json!([
            {"claim": "email_verified", "equals": true},
            {"claim": "https://example.com/roles", "contains": "root"}
        ]))
        .unwrap();
        let rules = rules_from_raw(raw, "rules[1]").unwrap();
        let unmet = first_unmet(&rules, &token()).unwrap();
        assert_eq!(unmet.name(), "https://example.com/roles");
        assert!(first_unmet(&rules[..1], &token()).is_none());
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
            .starts_with("rules[3].claims"));
    }
}
