//! What a rule matches besides methods: one path matcher (`path`, `prefix`,
//! `path_separated_prefix` or `uri_template`), route-name patterns (`route_names`), and
//! rule names (`name`) that a route's metadata can give. [`Route`] carries the facts of
//! the route Envoy selected, as far as the configuration needs them.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
