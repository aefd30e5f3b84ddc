//! What a rule matches besides methods: one path matcher (`path`, `prefix`,
//! `path_separated_prefix` or `uri_template`), route-name patterns (`route_names`), and
//! rule names (`name`) that a route's metadata can give. [`Route`] carries the facts of
//! the route Envoy selected, as far as the configuration needs them.

use super::host::HostPattern;
use super::template::UriTemplate;

/// Longest route-name pattern accepted.
pub const MAX_ROUTE_NAME: usize = 256;
/// Longest rule name.
pub const MAX_RULE_NAME: usize = 64;

/// A rule's path matcher; each is judged on one reading of the path (query dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatcher {
    /// `path`: the reading is exactly this.
    Exact(String),
    /// `prefix`: the reading starts with this.
    Prefix(String),
    /// `path_separated_prefix`: the reading is this, or this followed by `/` and more.
    SeparatedPrefix(String),
    /// `uri_template`: the reading matches the whole template.
    Template(UriTemplate),
}

/// Whether `text` starts with `head`, ASCII case ignored when `fold`.
fn starts(text: &[u8], head: &[u8], fold: bool) -> bool {
    text.get(..head.len())
        .is_some_and(|t| t == head || (fold && t.eq_ignore_ascii_case(head)))
}

impl PathMatcher {
    /// Whether `reading` matches; `fold` ignores ASCII case in the matcher's text.
    pub fn matches(&self, reading: &[u8], fold: bool) -> bool {
        match self {
            PathMatcher::Exact(p) => {
                reading.len() == p.len() && starts(reading, p.as_bytes(), fold)
            }
            PathMatcher::Prefix(p) => starts(reading, p.as_bytes(), fold),
            PathMatcher::SeparatedPrefix(p) => {
                starts(reading, p.as_bytes(), fold)
                    && matches!(reading.get(p.len()), None | Some(b'/'))
            }
            PathMatcher::Template(t) => t.matches(reading, fold),
        }
    }

    /// The configuration key this matcher was written as.
    pub fn key(&self) -> &'static str {
        match self {
            PathMatcher::Exact(_) => "path",
            PathMatcher::Prefix(_) => "prefix",
            PathMatcher::SeparatedPrefix(_) => "path_separated_prefix",
            PathMatcher::Template(_) => "uri_template",
        }
    }

    /// The matcher's text as written.
    pub fn text(&self) -> &str {
        match self {
            PathMatcher::Exact(p) | PathMatcher::Prefix(p) | PathMatcher::SeparatedPrefix(p) => p,
            PathMatcher::Template(t) => t.as_str(),
        }
    }
}

/// Why a `path` or `path_separated_prefix` value is refused (`prefix` keeps its own rule).
pub fn check_path(key: &str, text: &str) -> Result<(), String> {
    if !text.starts_with('/') {
        return Err("must start with '/'".into());
    }
    if text.contains(['?', '#']) {
        return Err("a path has no query or fragment ('?', '#'): it would never match".into());
    }
    if key == "path_separated_prefix" && text.ends_with('/') {
        return Err("must not end with '/' (`/api` matches `/api` and `/api/...`)".into());
    }
    Ok(())
}

/// A `route_names` entry: an Envoy route name, exact, or with a trailing `*` as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteNamePattern {
    text: String,
    prefix: bool,
}

impl RouteNamePattern {
    /// Parses one `route_names` entry.
    pub fn parse(text: &str) -> Result<RouteNamePattern, String> {
        if text.is_empty() || text.len() > MAX_ROUTE_NAME {
            return Err(format!("a route name is 1-{MAX_ROUTE_NAME} bytes"));
        }
        if text.chars().any(char::is_control) {
            return Err(format!("{text:?} holds a control character"));
        }
        let (head, prefix) = match text.strip_suffix('*') {
            Some(head) => (head, true),
            None => (text, false),
        };
        if head.contains('*') {
            return Err(format!("{text:?}: `*` is allowed only at the end"));
        }
        Ok(RouteNamePattern {
            text: head.to_string(),
            prefix,
        })
    }

    /// Whether the route named `name` (empty for a route without a name) matches.
    pub fn matches(&self, name: &str) -> bool {
        if self.prefix {
            name.starts_with(&self.text)
        } else {
            name == self.text
        }
    }
}

/// Whether `name` is a valid rule name: `[A-Za-z0-9_.-]{1,64}`.
pub fn valid_rule_name(name: &str) -> bool {
    (1..=MAX_RULE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// What a rule matches besides its methods. A rule with a `name` and nothing else
/// matches no request by itself: it applies only where a route names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matchers {
    /// At most one path matcher; `None`: any path.
    pub path: Option<PathMatcher>,
    /// Host patterns, any of which must match; empty: any host.
    pub hosts: Vec<HostPattern>,
    /// Route-name patterns, any of which must match; empty: any route.
    pub route_names: Vec<RouteNamePattern>,
    /// The rule's name, by which a route's metadata can name it.
    pub name: Option<String>,
}

/// A rule's matcher keys as written (each optional).
#[derive(Debug, Clone, Default)]
pub struct MatcherKeys {
    pub path: Option<String>,
    pub prefix: Option<String>,
    pub path_separated_prefix: Option<String>,
    pub uri_template: Option<String>,
    pub hosts: Option<Vec<String>>,
    pub route_names: Option<Vec<String>>,
    pub name: Option<String>,
}

/// A refused matcher key: where in the rule (`uri_template`, `hosts[1]`, or empty for the
/// rule itself) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherError {
    /// The key within the rule, with an index for list entries; empty: the whole rule.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn refuse<T>(key: impl Into<String>, message: impl Into<String>) -> Result<T, MatcherError> {
    Err(MatcherError {
        key: key.into(),
        message: message.into(),
    })
}

/// Every entry of `list` (under `key`) parsed, or the first one refused.
fn each<T, E: std::fmt::Display>(
    key: &str,
    list: Option<Vec<String>>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, MatcherError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if list.is_empty() {
        return refuse(
            key,
            "must list at least one entry (leave the key out for any)",
        );
    }
    list.iter()
        .enumerate()
        .map(|(i, text)| {
            parse(text).map_err(|e| MatcherError {
                key: format!("{key}[{i}]"),
                message: e.to_string(),
            })
        })
        .collect()
}

impl Matchers {
    /// Validates a rule's matcher keys.
    pub fn from_keys(keys: MatcherKeys) -> Result<Matchers, MatcherError> {
        let mut path: Option<PathMatcher> = None;
        let given = [
            ("path", keys.path),
            ("prefix", keys.prefix),
            ("path_separated_prefix", keys.path_separated_prefix),
            ("uri_template", keys.uri_template),
        ];
        for (key, text) in given {
            let Some(text) = text else { continue };
            if let Some(earlier) = &path {
                return refuse(
                    key,
                    format!(
                        "at most one of path, prefix, path_separated_prefix, uri_template per rule ({} is also given)",
                        earlier.key()
                    ),
                );
            }
            path = Some(match key {
                "prefix" if !text.starts_with('/') => return refuse(key, "must start with '/'"),
                "prefix" => PathMatcher::Prefix(text),
                "uri_template" => match UriTemplate::parse(&text) {
                    Ok(t) => PathMatcher::Template(t),
                    Err(e) => return refuse(key, format!("{text:?}: {e}")),
                },
                _ => {
                    if let Err(why) = check_path(key, &text) {
                        return refuse(key, why);
                    }
                    if key == "path" {
                        PathMatcher::Exact(text)
                    } else {
                        PathMatcher::SeparatedPrefix(text)
                    }
                }
            });
        }
        let hosts = each("hosts", keys.hosts, HostPattern::parse)?;
        let route_names = each("route_names", keys.route_names, RouteNamePattern::parse)?;
        if let Some(name) = &keys.name {
            if !valid_rule_name(name) {
                return refuse("name", format!("{name:?} is not 1-64 of A-Z a-z 0-9 _ . -"));
            }
        }
        let matchers = Matchers {
            path,
            hosts,
            route_names,
            name: keys.name,
        };
        if matchers.matches_nothing() && matchers.name.is_none() {
            return refuse(
                "",
                "a rule needs a matcher (path, prefix, path_separated_prefix, uri_template, hosts, route_names) or a name; write \"prefix\": \"/\" for a rule meant to match every request",
            );
        }
        Ok(matchers)
    }

    /// Whether this matches no request by itself (only a route naming it applies it).
    pub fn matches_nothing(&self) -> bool {
        self.path.is_none() && self.hosts.is_empty() && self.route_names.is_empty()
    }

    /// Whether one reading of a request matches: `path` a reading of the path, `host` a
    /// [`super::host::readings`] entry, `route` the route's name; `fold` ignores ASCII case
    /// in the path matcher's text.
    pub fn matches(&self, path: &[u8], host: Option<&str>, route: &str, fold: bool) -> bool {
        !self.matches_nothing()
            && self.path.as_ref().is_none_or(|p| p.matches(path, fold))
            && (self.hosts.is_empty() || self.hosts.iter().any(|h| h.matches(host)))
            && (self.route_names.is_empty() || self.route_names.iter().any(|r| r.matches(route)))
    }
}

/// The facts of the route Envoy selected for a request, each read only when a rule needs
/// it; `None` where not read or absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Route<'a> {
    /// `:authority` as sent (port and case are dealt with when matching `hosts`).
    pub authority: Option<&'a str>,
    /// The route's name (`xds.route_name`).
    pub name: Option<&'a str>,
    /// The rule the route's metadata names (`filter_metadata["jwt_guard"]["rule"]`).
    pub rule: Option<&'a str>,
}

/// Which route facts a configuration's rules read; the host reads only these, so a feature
/// not configured costs a request nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteNeeds {
    /// Some rule has `hosts`: read `:authority`.
    pub authority: bool,
    /// Some rule has `route_names`: read `xds.route_name`.
    pub name: bool,
    /// Some rule has a `name`: read the rule the route's metadata names. With no named
    /// rule the metadata is not read at all, so no route can be refused for naming one.
    pub rule: bool,
}

impl RouteNeeds {
    /// What rules with these `matchers` need.
    pub fn of<'m>(matchers: impl Iterator<Item = &'m Matchers> + Clone) -> RouteNeeds {
        let any = |f: fn(&Matchers) -> bool| matchers.clone().any(f);
        RouteNeeds {
            authority: any(|m| !m.hosts.is_empty()),
            name: any(|m| !m.route_names.is_empty()),
            rule: any(|m| m.name.is_some()),
        }
    }
}
