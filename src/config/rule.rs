//! Route rules: which requests need a token, which scopes, from which providers.

use super::error::{fail, invalid, ConfigError, ConfigErrorKind};
use super::provider::Provider;
use super::raw::RawRule;

/// A route rule: the first rule whose prefix and method match a request applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub prefix: String,
    /// Upper-case methods; empty: every method. `GET` also covers `HEAD`.
    pub methods: Vec<String>,
    pub allow_anonymous: bool,
    pub scopes: Vec<String>,
    /// Indices of the providers whose tokens this route accepts; `None`: any provider.
    pub providers: Option<Vec<usize>>,
}

impl Rule {
    pub(super) fn from_raw(
        raw: RawRule,
        at: &str,
        known: &[Provider],
    ) -> Result<Rule, ConfigError> {
        let prefix = match raw.prefix {
            Some(p) if p.starts_with('/') => p,
            Some(_) => return invalid(format!("{at}.prefix"), "must start with '/'"),
            None => return fail(format!("{at}.prefix"), ConfigErrorKind::Required),
        };
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
        Ok(Rule {
            prefix,
            methods: raw.methods,
            allow_anonymous: raw.allow_anonymous,
            scopes: raw.scopes,
            providers,
        })
    }
}
