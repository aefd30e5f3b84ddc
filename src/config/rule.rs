//! Route rules: which requests need a token, which scopes, from which providers.

use super::error::{fail, invalid, ConfigError, ConfigErrorKind};
use super::provider::Provider;
use super::raw::RawRule;
use crate::claims::{self, ClaimRule};

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
    /// Step-up authentication (`acr_values`, `max_age_s`).
    pub step_up: Option<crate::stepup::StepUp>,
    /// Conditions on the verified token's claims, all of which must hold.
    pub claims: Vec<ClaimRule>,
    /// Whether refusals are answered (`enforce`) or only counted and logged (`report`).
    pub mode: Mode,
}

/// A rule's `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Refusals are answered (the default).
    #[default]
    Enforce,
    /// Every request continues; the verdict it would have had is counted and logged.
    Report,
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
        let step_up = super::stepup::step_up(raw.acr_values, raw.max_age_s, at)?;
        let claims = claims::rules_from_raw(raw.claims, at)?;
        if raw.allow_anonymous && !claims.is_empty() {
            return fail(
                format!("{at}.claims"),
                ConfigErrorKind::Conflict("an anonymous route cannot require claims"),
            );
        }
        let mode = match raw.mode.as_deref() {
            None | Some("enforce") => Mode::Enforce,
            Some("report") => Mode::Report,
            Some(other) => {
                return invalid(
                    format!("{at}.mode"),
                    format!("{other:?} is not one of enforce, report"),
                )
            }
        };
        Ok(Rule {
            prefix,
            methods: raw.methods,
            allow_anonymous: raw.allow_anonymous,
            scopes: raw.scopes,
            providers,
            step_up,
            claims,
            mode,
        })
    }
}
