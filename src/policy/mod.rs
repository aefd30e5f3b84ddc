//! Route policy: which requirement applies to a request, and whether a token's scopes
//! satisfy it. A rule matches by path ([`matcher`], [`template`]), host ([`host`]), route
//! name and method; a route can also name a rule in its metadata, which then applies
//! whatever its matchers say. A rule is chosen for every plausible reading of the path
//! ([`paths`]), of the host, and of the method (`HEAD` is also read as `GET`;
//! method-override headers add their values), and the strictest result applies: a token is required if any reading
//! requires one, the scopes are the union, the accepted providers the intersection.
//! Anonymous access is granted only when every reading allows it; `claims` conditions are
//! the union, and a refusal is only reported (not answered) when every reading's rule is in
//! `report` mode.

pub mod host;
pub mod matcher;
pub mod paths;
pub mod template;
#[cfg(test)]
mod tests;

use crate::claims::ClaimRule;
use crate::config::{AmbiguousPaths, Config, MethodOverride, Mode, Rule};
use crate::reject::Denial;
use crate::token::Claims;
pub use matcher::{Route, RouteNeeds};
use serde_json::Value;
use std::borrow::Cow;

/// Most methods a request is judged as (its own plus override values).
pub const MAX_METHODS: usize = 8;

/// What a request needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Requirement {
    /// No token needed (a presented token is still checked).
    pub allow_anonymous: bool,
    /// Scopes a token must grant, all of them.
    pub scopes: Vec<String>,
    /// Providers whose tokens are accepted (indices); `None`: any.
    pub providers: Option<Vec<usize>>,
    /// Step-up authentication the token must show (RFC 9470).
    pub step_up: Option<Box<crate::stepup::StepUp>>,
    /// Conditions on the token's claims, all of which must hold.
    pub claims: Vec<ClaimRule>,
    /// `report` mode: the request continues whatever the verdict, which is only counted.
    pub report: bool,
}

impl Requirement {
    /// Whether tokens of provider `index` are accepted.
    pub fn accepts(&self, index: usize) -> bool {
        self.providers.as_ref().is_none_or(|p| p.contains(&index))
    }

    fn of(rule: Option<&Rule>) -> Requirement {
        match rule {
            Some(r) => Requirement {
                allow_anonymous: r.allow_anonymous,
                scopes: r.scopes.clone(),
                providers: r.providers.clone(),
                step_up: r.step_up.clone().map(Box::new),
                claims: r.claims.clone(),
                report: r.mode == Mode::Report,
            },
            None => Requirement::default(),
        }
    }

    /// Adds `other`'s demands to these.
    fn tighten(&mut self, other: Requirement) {
        self.allow_anonymous &= other.allow_anonymous;
        for s in other.scopes {
            if !self.scopes.contains(&s) {
                self.scopes.push(s);
            }
        }
        for c in other.claims {
            if !self.claims.contains(&c) {
                self.claims.push(c);
            }
        }
        self.report &= other.report;
        self.providers = match (self.providers.take(), other.providers) {
            (None, p) | (p, None) => p,
            (Some(a), Some(b)) => Some(a.into_iter().filter(|i| b.contains(i)).collect()),
        };
        let (mine, theirs) = (self.step_up.take().map(|s| *s), other.step_up.map(|s| *s));
        self.step_up = crate::stepup::StepUp::tighten(mine, theirs).map(Box::new);
    }
}

/// The requirement for `method` on `path` (`:path`, query included), given the values
/// of the method-override headers and the facts of the route Envoy selected; `Err` for a
/// request that cannot be judged (or, with `ambiguous_paths: reject`, whose path readings
/// disagree), and for a route naming a rule this configuration does not have.
pub fn requirement(
    cfg: &Config,
    method: &str,
    path: &str,
    overrides: &[&str],
    route: &Route<'_>,
) -> Result<Requirement, Denial> {
    let rules = &cfg.rules;
    let mut chosen: Vec<Option<usize>> = Vec::with_capacity(2);
    // The first choice for the method being walked, and whether a later one differed.
    let mut first: Option<(usize, Option<usize>)> = None;
    let mut ambiguous = false;
    let named = walk(cfg, method, path, overrides, route, |m, _, _, index| {
        match first {
            Some((fm, f)) if fm == m => ambiguous |= !same(rules, f, index),
            _ => first = Some((m, index)),
        }
        if !chosen.contains(&index) {
            chosen.push(index);
        }
    })?;
    if ambiguous && cfg.ambiguous_paths == AmbiguousPaths::Reject {
        return Err(Denial::Ambiguous("path readings select different rules"));
    }
    if let Some(named) = named {
        // A route naming a rule makes it apply to every reading: "no rule matches" (the
        // default requirement) no longer happens for any of them.
        chosen.retain(Option::is_some);
        if !chosen.contains(&Some(named)) {
            chosen.push(Some(named));
        }
    }
    let mut need = Requirement {
        allow_anonymous: true,
        // Only a request whose every reading selects a `report` rule is merely reported.
        report: !chosen.is_empty(),
        ..Requirement::default()
    };
    for index in chosen {
        need.tighten(Requirement::of(index.and_then(|i| rules.get(i))));
    }
    Ok(need)
}

/// One rule choice: the first rule matching one reading of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The rule's index in `rules`; `None`: no rule matches this reading.
    pub rule: Option<usize>,
    /// The method as judged (its own, upper-cased, or a method-override value).
    pub method: String,
    /// The reading of the path.
    pub reading: Vec<u8>,
    /// The reading of the host; `None` when `:authority` was not given.
    pub host: Option<String>,
    /// Whether restricting rules matched their path ignoring ASCII case.
    pub folded: bool,
}

/// Every rule choice [`requirement`] combines, for explaining a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices {
    /// The rule the route's metadata names; it applies to every reading.
    pub named: Option<usize>,
    /// The choice for each reading of method, path and host, unfolded then folded.
    pub each: Vec<Choice>,
}

/// The rule choices behind [`requirement`] (same arguments, same refusals except the
/// `ambiguous_paths: reject` one).
pub fn choices(
    cfg: &Config,
    method: &str,
    path: &str,
    overrides: &[&str],
    route: &Route<'_>,
) -> Result<Choices, Denial> {
    let mut each = Vec::new();
    let named = walk(cfg, method, path, overrides, route, |_, at, fold, rule| {
        each.push(Choice {
            rule,
            method: at.method.to_string(),
            reading: at.path.to_vec(),
            host: at.host.map(str::to_string),
            folded: fold,
        });
    })?;
    Ok(Choices { named, each })
}

/// Walks every reading of a request (methods, then path readings, then host readings,
/// unfolded then folded), calling `visit` with the method's position, the reading and
/// its first matching rule; returns the rule the route names.
fn walk(
    cfg: &Config,
    method: &str,
    path: &str,
    overrides: &[&str],
    route: &Route<'_>,
    mut visit: impl FnMut(usize, &Request<'_>, bool, Option<usize>),
) -> Result<Option<usize>, Denial> {
    let rules = &cfg.rules;
    let named = match route.rule {
        None => None,
        Some(name) => Some(
            rules
                .iter()
                .position(|r| r.matchers.name.as_deref() == Some(name))
                .ok_or_else(|| Denial::UnknownRouteRule(name.to_string()))?,
        ),
    };
    let readings = paths::readings(path).map_err(|e| match e {
        paths::PathError::TooLong => Denial::Ambiguous("path too long to judge"),
        paths::PathError::TooDeep => Denial::Ambiguous("path escapes nested too deep to judge"),
    })?;
    let methods = methods(method, overrides, cfg.method_override)?;
    // The host readings, or one absent host when `:authority` was not read.
    let owned_hosts = route.authority.map(host::readings).unwrap_or_default();
    let hosts = || {
        owned_hosts
            .iter()
            .map(|h| Some(h.as_str()))
            .chain(owned_hosts.is_empty().then_some(None))
    };
    let route_name = route.name.unwrap_or("");
    for (m, method) in methods.iter().enumerate() {
        for reading in &readings {
            for host in hosts() {
                for fold in [false, true] {
                    let at = Request {
                        method,
                        path: reading,
                        host,
                        route: route_name,
                    };
                    visit(m, &at, fold, first_rule(rules, &at, fold));
                }
            }
        }
    }
    Ok(named)
}

/// The methods a request is judged as: its own (also upper-cased), and in `judge` mode
/// every comma-separated override value, upper-cased.
fn methods<'m>(
    method: &'m str,
    overrides: &[&str],
    mode: MethodOverride,
) -> Result<Vec<Cow<'m, str>>, Denial> {
    let mut out = vec![Cow::Borrowed(method)];
    let mut add = |m: String| {
        if !m.is_empty() && !out.iter().any(|o| *o == m) {
            out.push(Cow::Owned(m));
        }
    };
    if method.bytes().any(|b| b.is_ascii_lowercase()) {
        add(method.to_ascii_uppercase());
    }
    if mode == MethodOverride::Judge {
        for value in overrides.iter().flat_map(|v| v.split(',')) {
            add(value.trim_matches([' ', '\t']).to_ascii_uppercase());
        }
    }
    if out.len() > MAX_METHODS {
        return Err(Denial::Ambiguous("too many method-override values"));
    }
    Ok(out)
}

/// Whether a rule listing `methods` governs `method` (`GET` also governs `HEAD`).
fn governs(methods: &[String], method: &str) -> bool {
    methods.is_empty()
        || methods
            .iter()
            .any(|m| m == method || (m == "GET" && method == "HEAD"))
}

/// One reading of a request, as rules match it.
struct Request<'a> {
    method: &'a str,
    path: &'a [u8],
    host: Option<&'a str>,
    route: &'a str,
}

/// The first rule matching one reading; with `fold`, restricting rules match their path
/// ignoring ASCII case (anonymous rules never match more because of folding).
fn first_rule(rules: &[Rule], at: &Request<'_>, fold: bool) -> Option<usize> {
    rules.iter().position(|r| {
        governs(&r.methods, at.method)
            && r.matchers
                .matches(at.path, at.host, at.route, fold && !r.allow_anonymous)
    })
}

/// Whether two rule choices make the same demands.
fn same(rules: &[Rule], a: Option<usize>, b: Option<usize>) -> bool {
    a == b
        || Requirement::of(a.and_then(|i| rules.get(i)))
            == Requirement::of(b.and_then(|i| rules.get(i)))
}

/// The scopes a token grants: `scope` (space-separated) and `permissions` (array), as
/// Auth0 issues them.
pub fn granted_scopes(claims: &Claims) -> Vec<String> {
    let scope = claims
        .custom
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("");
    let permissions = claims.custom.get("permissions").and_then(Value::as_array);
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .chain(permissions.into_iter().flatten().filter_map(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Required scopes missing from `granted`.
pub fn missing_scopes(required: &[String], granted: &[String]) -> Vec<String> {
    required
        .iter()
        .filter(|need| !granted.contains(need))
        .cloned()
        .collect()
}
