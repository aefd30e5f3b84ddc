//! Route rules: which requests need a token, which scopes, from which providers.

use super::error::{fail, invalid, ConfigError, ConfigErrorKind};
use super::provider::Provider;
use super::raw::RawRule;
pub use super::switches::Mode;
use crate::claims::{self, ClaimRule};
use crate::policy::matcher::{MatcherKeys, Matchers};

/// A route rule: for each reading of a request, the first rule whose matchers and methods
/// match applies; a rule a route's metadata names applies to that route's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Path, hosts, route names, and the rule's name.
    pub matchers: Matchers,
    /// Upper-case methods; empty: every method. `GET` also covers `HEAD`.
    pub methods: Vec<String>,
    pub allow_anonymous: bool,
    pub scopes: Vec<String>,
    /// Indices of the providers whose tokens this route accepts; `None`: any provider.
    pub providers: Option<Vec<usize>>,
    /// Step-up authentication (`acr_values`, `max_age_s`).
    pub step_up: Option<crate::stepup::StepUp>,
    /// Conditions on the verified token's claims, all of which must hold.
    pub claims: Vec<ClaimRule>,
    /// Whether refusals are answered (`enforce`) or only counted and logged (`report`).
    pub mode: Mode,
}

impl Rule {
    pub(super) fn from_raw(
        raw: RawRule,
        at: &str,
        known: &[Provider],
    ) -> Result<Rule, ConfigError> {
        let keys = MatcherKeys {
            path: raw.path,
            prefix: raw.prefix,
            path_separated_prefix: raw.path_separated_prefix,
            uri_template: raw.uri_template,
            hosts: raw.hosts,
            route_names: raw.route_names,
            name: raw.name,
        };
        let matchers = Matchers::from_keys(keys).map_err(|e| {
            let field = if e.key.is_empty() {
                at.to_string()
            } else {
                format!("{at}.{}", e.key)
            };
            ConfigError::new(field, ConfigErrorKind::Invalid(e.message))
        })?;
        for m in &raw.methods {
            if m.is_empty() || m.len() > 32 || !m.bytes().all(|b| b.is_ascii_uppercase()) {
                return invalid(
                    format!("{at}.methods"),
                    format!("{m:?} is not an upper-case HTTP method"),
                );
            }
        }
        for s in &raw.scopes {
            if s.is_empty() || s.contains([' ', '"', '\\']) || s.chars().any(char::is_control) {
                return invalid(format!("{at}.scopes"), format!("invalid scope {s:?}"));
            }
        }
        if raw.allow_anonymous && !raw.scopes.is_empty() {
            return fail(
                format!("{at}.scopes"),
                ConfigErrorKind::Conflict("an anonymous route cannot require scopes"),
            );
        }
        let providers = match raw.providers {
            None => None,
            Some(names) if names.is_empty() => {
                return invalid(format!("{at}.providers"), "must list at least one provider")
            }
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| {
                        known.iter().position(|p| &p.name == n).ok_or_else(|| {
                            ConfigError::new(
                                format!("{at}.providers"),
                                ConfigErrorKind::Invalid(format!("unknown provider {n:?}")),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let step_up = crate::stepup::StepUp::from_raw(raw.acr_values, raw.max_age_s, at)?;
        let claims = claims::rules_from_raw(raw.claims, at)?;
        if raw.allow_anonymous && !claims.is_empty() {
            return fail(
                format!("{at}.claims"),
                ConfigErrorKind::Conflict("an anonymous route cannot require claims"),
            );
        }
        Ok(Rule {
            matchers,
            methods: raw.methods,
            allow_anonymous: raw.allow_anonymous,
            scopes: raw.scopes,
            providers,
            step_up,
            claims,
            mode: raw.mode,
        })
    }
}

/// Refuses a rule `name` given twice, naming the later rule.
pub(super) fn unique_names(rules: &[Rule]) -> Result<(), ConfigError> {
    for (i, rule) in rules.iter().enumerate() {
        let Some(name) = &rule.matchers.name else {
            continue;
        };
        let earlier = rules
            .iter()
            .take(i)
            .position(|r| r.matchers.name.as_ref() == Some(name));
        if let Some(j) = earlier {
            return fail(
                format!("rules[{i}].name"),
                ConfigErrorKind::Duplicate(format!("rule name {name:?} is also rules[{j}].name")),
            );
        }
    }
    Ok(())
}
