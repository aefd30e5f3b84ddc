//! Step-up authentication (RFC 9470): a rule may require an authentication context
//! (`acr_values`: the token's `acr` must be one of them) and a recent sign-in (`max_age_s`:
//! the token's `auth_time` at most that old). A miss is answered with 401
//! `insufficient_user_authentication` and the `acr_values` / `max_age` the client must ask
//! the authorization server for.

use crate::config::error::ConfigError;
use crate::token::Claims;
use serde_json::Value;

/// Most `acr_values` per rule.
const MAX_ACR_VALUES: usize = 16;
/// Largest `max_age_s` (one year).
const MAX_MAX_AGE_S: u64 = 365 * 24 * 3600;

/// A rule's step-up requirement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepUp {
    /// Accepted `acr` values; `None`: any (an empty list accepts none).
    pub acr_values: Option<Vec<String>>,
    /// Longest time since `auth_time`, in seconds.
    pub max_age_s: Option<u64>,
}

/// The RFC 9470 `error` code.
pub const ERROR: &str = "insufficient_user_authentication";

impl StepUp {
    /// Validates a rule's `acr_values` and `max_age_s`; `field` is the rule (`rules[2]`).
    pub fn from_raw(
        acr_values: Option<Vec<String>>,
        max_age_s: Option<u64>,
        field: &str,
    ) -> Result<Option<StepUp>, ConfigError> {
        if let Some(values) = &acr_values {
            if values.is_empty() || values.len() > MAX_ACR_VALUES {
                return Err(ConfigError::invalid(
                    format!("{field}.acr_values"),
                    format!("must list 1 to {MAX_ACR_VALUES} values"),
                ));
            }
            for (i, v) in values.iter().enumerate() {
                // A challenge parameter value, space-separated: no spaces, quotes or controls.
                let ok = !v.is_empty()
                    && v.len() <= 256
                    && v.bytes()
                        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
                if !ok {
                    return Err(ConfigError::invalid(
                        format!("{field}.acr_values[{i}]"),
                        "must be a non-empty printable ASCII string without spaces or quotes",
                    ));
                }
            }
        }
        if max_age_s.is_some_and(|age| age > MAX_MAX_AGE_S) {
            return Err(ConfigError::invalid(
                format!("{field}.max_age_s"),
                format!("must be at most {MAX_MAX_AGE_S} seconds"),
            ));
        }
        Ok(
            (acr_values.is_some() || max_age_s.is_some()).then_some(StepUp {
                acr_values,
                max_age_s,
            }),
        )
    }

    /// The strictest of two requirements (both must hold).
    pub fn tighten(a: Option<StepUp>, b: Option<StepUp>) -> Option<StepUp> {
        let (a, b) = match (a, b) {
            (Some(a), Some(b)) => (a, b),
            (a, b) => return a.or(b),
        };
        let acr_values = match (a.acr_values, b.acr_values) {
            // An `acr` must be in both lists; if none is, no token passes.
            (Some(x), Some(y)) => Some(x.into_iter().filter(|v| y.contains(v)).collect()),
            (x, y) => x.or(y),
        };
        let max_age_s = match (a.max_age_s, b.max_age_s) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        Some(StepUp {
            acr_values,
            max_age_s,
        })
    }

    /// Checks a token's authentication context at `now`, allowing `skew` seconds.
    pub fn check(&self, auth: &AuthContext, now: u64, skew: u64) -> Result<(), Insufficient> {
        let acr_ok = match (&self.acr_values, &auth.acr) {
            (None, _) => true,
            (Some(values), Some(acr)) => values.contains(acr),
            (Some(_), None) => false,
        };
        let age_ok = self.max_age_s.is_none_or(|max| match auth.auth_time {
            Some(t) => {
                t <= now.saturating_add(skew) && now.saturating_sub(t) <= max.saturating_add(skew)
            }
            None => false,
        });
        if acr_ok && age_ok {
            Ok(())
        } else {
            Err(Insufficient {
                acr_values: self.acr_values.as_deref().unwrap_or_default().join(" "),
                max_age_s: self.max_age_s,
            })
        }
    }
}

/// How and when the user signed in, as a verified token says (`acr`, `auth_time`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthContext {
    pub acr: Option<String>,
    pub auth_time: Option<u64>,
}

impl AuthContext {
    /// Reads `acr` (a short string) and `auth_time` (a NumericDate) from verified claims.
    pub fn of(claims: &Claims) -> AuthContext {
        AuthContext {
            acr: match claims.custom.get("acr") {
                Some(Value::String(acr)) if acr.len() <= 256 => Some(acr.clone()),
                _ => None,
            },
            auth_time: claims.custom.get("auth_time").and_then(Value::as_u64),
        }
    }
}

/// What the client must obtain: the challenge parameters of a step-up refusal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Insufficient {
    /// Space-separated `acr_values` (empty when the rule sets none).
    pub acr_values: String,
    /// `max_age`, when the rule sets one.
    pub max_age_s: Option<u64>,
}

impl Insufficient {
    /// The `acr_values` and `max_age` challenge parameters.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if !self.acr_values.is_empty() {
            params.push(("acr_values", self.acr_values.clone()));
        }
        if let Some(age) = self.max_age_s {
            params.push(("max_age", age.to_string()));
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn claims(json: &str) -> AuthContext {
        AuthContext::of(&serde_json::from_str::<Claims>(json).unwrap())
    }

    fn rule(acr: &[&str], age: Option<u64>) -> StepUp {
        let acr = (!acr.is_empty()).then(|| acr.iter().map(|s| s.to_string()).collect());
        StepUp::from_raw(acr, age, "rules[0]").unwrap().unwrap()
    }

    #[test]
    fn acr_must_be_listed() {
        let mfa = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";
        let r = rule(&[mfa, "mfa"], None);
        assert_eq!(r.check(&claims(r#"{"acr":"mfa"}"#), NOW, 0), Ok(()));
        for bad in [
            r#"{"acr":"pwd"}"#,
            "{}",
            r#"{"acr":["mfa"]}"#,
            r#"{"acr":"MFA"}"#,
        ] {
            let miss = r.check(&claims(bad), NOW, 0).unwrap_err();
            assert_eq!(
                miss.params(),
                vec![("acr_values", format!("{mfa} mfa"))],
                "{bad}"
            );
        }
    }

    #[test]
    fn auth_time_must_be_recent() {
        let r = rule(&[], Some(300));
        let at = |t: u64| claims(&format!(r#"{{"auth_time":{t}}}"#));
        assert_eq!(r.check(&at(NOW - 300), NOW, 0), Ok(()));
        assert_eq!(r.check(&at(NOW - 330), NOW, 30), Ok(()));
        let miss = r.check(&at(NOW - 301), NOW, 0).unwrap_err();
        assert_eq!(miss.params(), vec![("max_age", "300".to_string())]);
        assert!(r.check(&at(NOW + 31), NOW, 30).is_err());
        assert!(r.check(&claims("{}"), NOW, 0).is_err());
        assert!(r
            .check(&claims(r#"{"auth_time":"recent"}"#), NOW, 0)
            .is_err());
    }

    #[test]
    fn both_requirements_are_reported_together() {
        let r = rule(&["mfa"], Some(60));
        let late = claims(&format!(r#"{{"acr":"mfa","auth_time":{}}}"#, NOW - 61));
        assert_eq!(r.check(&late, NOW, 0).unwrap_err().params().len(), 2);
    }

    #[test]
    fn two_readings_tighten_to_both_requirements() {
        let a = rule(&["mfa", "phr"], Some(600));
        let b = rule(&["phr", "hwk"], Some(60));
        assert_eq!(
            StepUp::tighten(Some(a.clone()), Some(b)),
            Some(rule(&["phr"], Some(60)))
        );
        assert_eq!(
            StepUp::tighten(Some(a.clone()), Some(rule(&[], Some(30)))),
            Some(rule(&["mfa", "phr"], Some(30)))
        );
        assert_eq!(StepUp::tighten(None, Some(a.clone())), Some(a));
        assert_eq!(StepUp::tighten(None, None), None);
        // Disjoint lists: no acr satisfies both, so none passes.
        let none = StepUp::tighten(Some(rule(&["a"], None)), Some(rule(&["b"], None))).unwrap();
        assert!(none.check(&claims(r#"{"acr":"a"}"#), NOW, 0).is_err());
        assert!(none.check(&claims(r#"{"acr":"b"}"#), NOW, 0).is_err());
    }

    #[test]
    fn configuration_names_the_field() {
        assert_eq!(StepUp::from_raw(None, None, "rules[0]"), Ok(None));
        let e = StepUp::from_raw(Some(vec!["a b".into()]), None, "rules[3]").unwrap_err();
        assert_eq!(e.field, "rules[3].acr_values[0]");
        let e = StepUp::from_raw(Some(vec![String::new()]), None, "rules[0]").unwrap_err();
        assert_eq!(e.field, "rules[0].acr_values[0]");
        let e = StepUp::from_raw(Some(vec![]), None, "rules[0]").unwrap_err();
        assert_eq!(e.field, "rules[0].acr_values");
        let e = StepUp::from_raw(None, Some(MAX_MAX_AGE_S + 1), "rules[1]").unwrap_err();
        assert_eq!(e.field, "rules[1].max_age_s");
        let many = Some(vec!["a".to_string(); 17]);
        assert_eq!(
            StepUp::from_raw(many, None, "r").unwrap_err().field,
            "r.acr_values"
        );
    }
}
