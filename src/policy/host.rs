//! Host patterns (`hosts`), matched as Envoy matches virtual-host domains: ASCII case
//! ignored, against `:authority` without its port. A pattern is an exact host, `*.suffix`
//! (any host ending in `.suffix`, with at least one byte before it), or `*` (any host, an
//! absent one included).

use thiserror::Error;

/// Longest host pattern accepted (a DNS name is at most 253 bytes).
pub const MAX_HOST: usize = 253;

/// Why a host pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HostError {
    #[error("empty host")]
    Empty,
    #[error("longer than {MAX_HOST} bytes")]
    TooLong,
    #[error("{0:?} is not a host name, a bracketed IPv6 address, `*.suffix` or `*`")]
    Invalid(String),
    #[error("{0:?}: a host pattern has no port (the port is ignored when matching)")]
    Port(String),
}

/// One `hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `*`: every host.
    Any,
    /// This host (lower case).
    Exact(String),
    /// Hosts ending in this text (lower case, starting with `.`), with something before it.
    Suffix(String),
}

/// Whether `name` is a DNS-style host name: dot-separated non-empty labels of letters,
/// digits, `-` and `_`.
fn host_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether `text` is `[` IPv6 `]` (hex digits, `:` and `.` for an embedded IPv4).
fn ipv6_literal(text: &str) -> bool {
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .is_some_and(|inner| {
            inner.contains(':')
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        })
}

impl HostPattern {
    /// Parses one `hosts` entry.
    pub fn parse(text: &str) -> Result<HostPattern, HostError> {
        if text.is_empty() {
            return Err(HostError::Empty);
        }
        if text.len() > MAX_HOST {
            return Err(HostError::TooLong);
        }
        let lower = text.to_ascii_lowercase();
        if lower == "*" {
            return Ok(HostPattern::Any);
        }
        if let Some(suffix) = lower.strip_prefix("*.") {
            if host_name(suffix) {
                return Ok(HostPattern::Suffix(format!(".{suffix}")));
            }
        } else if host_name(&lower) || ipv6_literal(&lower) {
            return Ok(HostPattern::Exact(lower));
        } else if lower.rsplit_once(':').is_some_and(|(host, port)| {
            (host_name(host) || ipv6_literal(host)) && port.bytes().all(|b| b.is_ascii_digit())
        }) {
            return Err(HostError::Port(text.to_string()));
        }
        Err(HostError::Invalid(text.to_string()))
    }

    /// Whether `host` (a [`reading`] of `:authority`; `None` when there is none) matches.
    pub fn matches(&self, host: Option<&str>) -> bool {
        match (self, host) {
            (HostPattern::Any, _) => true,
            (_, None) => false,
            (HostPattern::Exact(h), Some(host)) => h == host,
            (HostPattern::Suffix(s), Some(host)) => {
                host.len() > s.len() && host.ends_with(s.as_str())
            }
        }
    }
}

/// `authority` as host patterns see it: lower case, without userinfo or port.
pub fn reading(authority: &str) -> String {
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.find(']')
            .and_then(|end| host.get(..=end))
            .unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host.to_ascii_lowercase()
}

/// The readings of `authority` a host pattern is judged over: [`reading`], and the same
/// without trailing dots (a fully qualified name may reach the same virtual host, and the
/// client chooses `:authority` whatever DNS says).
pub fn readings(authority: &str) -> Vec<String> {
    let host = reading(authority);
    let bare = host.trim_end_matches('.');
    if bare.len() == host.len() || bare.is_empty() {
        return vec![host];
    }
    let bare = bare.to_string();
    vec![host, bare]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> HostPattern {
        HostPattern::parse(text).unwrap()
    }

    #[test]
    fn exact_hosts_ignore_case_and_port() {
        let pattern = p("API.Tenant-A.com");
        for authority in [
            "api.tenant-a.com",
            "API.TENANT-A.COM:8443",
            "user@api.tenant-a.com:1",
        ] {
            assert!(pattern.matches(Some(&reading(authority))), "{authority}");
        }
        for authority in [
            "api.tenant-b.com",
            "x.api.tenant-a.com",
            "api.tenant-a.comx",
        ] {
            assert!(!pattern.matches(Some(&reading(authority))), "{authority}");
        }
        assert!(!pattern.matches(None));
        let v6 = p("[::1]");
        assert!(v6.matches(Some(&reading("[::1]:8080"))));
        assert!(v6.matches(Some(&reading("[::1]"))));
    }

    #[test]
    fn wildcards_need_something_before_the_suffix() {
        let pattern = p("*.example.com");
        assert_eq!(pattern, HostPattern::Suffix(".example.com".into()));
        assert!(pattern.matches(Some("a.example.com")));
        assert!(pattern.matches(Some("a.b.example.com")));
        assert!(!pattern.matches(Some("example.com")));
        assert!(!pattern.matches(Some(".example.com")));
        assert!(!pattern.matches(Some("aexample.com")));
        assert!(p("*").matches(Some("anything")));
        assert!(p("*").matches(None));
    }

    #[test]
    fn a_trailing_dot_is_a_second_reading() {
        assert_eq!(
            readings("API.example.com.:443"),
            ["api.example.com.", "api.example.com"]
        );
        assert_eq!(readings("api.example.com"), ["api.example.com"]);
        assert_eq!(
            readings("api.example.com.."),
            ["api.example.com..", "api.example.com"]
        );
        assert_eq!(readings("."), ["."]);
    }

    #[test]
    fn bad_patterns_say_why() {
        assert_eq!(HostPattern::parse(""), Err(HostError::Empty));
        assert_eq!(
            HostPattern::parse("api.example.com:443"),
            Err(HostError::Port("api.example.com:443".into()))
        );
        for bad in [
            "a..b", ".a", "a.", "*a.com", "a.*.com", "*.", "*.*.com", "a b", "a/b", "a*",
            "[zz::1]", "a@b", "http://a",
        ] {
            assert!(
                matches!(HostPattern::parse(bad), Err(HostError::Invalid(_))),
                "{bad}: {:?}",
                HostPattern::parse(bad)
            );
        }
        assert_eq!(
            HostPattern::parse(&"a".repeat(254)),
            Err(HostError::TooLong)
        );
    }
}
