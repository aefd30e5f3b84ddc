//! Route policy: which rule applies to a request, and whether a token's scopes satisfy it.

use crate::config::Rule;
use crate::token::Claims;
use serde_json::Value;

/// What a request needs, from the first matching rule (none: a valid token).
#[derive(Debug, Clone, Copy)]
pub struct Requirement<'a> {
    pub allow_anonymous: bool,
    pub scopes: &'a [String],
}

/// The requirement for `method` on `path` (`:path`, query included).
pub fn requirement<'a>(rules: &'a [Rule], method: &str, path: &str) -> Requirement<'a> {
    let path = normalize(path);
    let rule = rules.iter().find(|r| {
        path.starts_with(r.prefix.as_str())
            && (r.methods.is_empty() || r.methods.iter().any(|m| m == method))
    });
    match rule {
        Some(r) => Requirement {
            allow_anonymous: r.allow_anonymous,
            scopes: &r.scopes,
        },
        None => Requirement {
            allow_anonymous: false,
            scopes: &[],
        },
    }
}

/// Bound on repeated percent-decoding of a path.
const MAX_DECODE_ROUNDS: usize = 8;

/// The path without query or fragment, with unreserved percent-escapes decoded, encoded
/// slashes (`%2F`, `%5C`) and backslashes read as `/`, `//` merged and dot-segments
/// resolved (RFC 3986 §6.2.2), so neither `/public/../admin` nor `/public/..%2Fadmin` can
/// borrow the rule of `/public` (an upstream may decode them to `/admin`).
pub fn normalize(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or("");
    // Decoding can reveal new escapes (`%%32%66` -> `%2f`): decode until nothing changes,
    // so a path decoded twice downstream still means what was matched here.
    let mut decoded = decode_unreserved(path);
    for _ in 0..MAX_DECODE_ROUNDS {
        let again = decode_unreserved(&decoded);
        if again == decoded {
            break;
        }
        decoded = again;
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(decoded.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || (decoded.ends_with('/') && !segments.is_empty()) {
        out.push('/');
    }
    out
}

fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .filter(|v| b == b'%' && (v.is_ascii_alphanumeric() || b"-._~/\\".contains(v)));
        match escaped {
            Some(v) => {
                out.push(if v == b'\\' { b'/' } else { v });
                i += 3;
            }
            None => {
                out.push(if b == b'\\' { b'/' } else { b });
                i += 1;
            }
        }
    }
    // Only ASCII bytes replaced whole escapes, so the result is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| path.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn rules() -> Vec<Rule> {
        let cfg = r#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}],
          "rules":[{"prefix":"/healthz","allow_anonymous":true},
                   {"prefix":"/admin","methods":["POST","DELETE"],"scopes":["write:admin"]},
                   {"prefix":"/admin","allow_anonymous":false}]}"#;
        Config::parse(cfg.as_bytes()).unwrap().rules
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = rules();
        assert!(requirement(&rules, "GET", "/healthz").allow_anonymous);
        assert!(requirement(&rules, "GET", "/healthz/live?x=1").allow_anonymous);
        assert_eq!(
            requirement(&rules, "POST", "/admin/users").scopes,
            ["write:admin"]
        );
        assert!(requirement(&rules, "GET", "/admin/users").scopes.is_empty());
        let default = requirement(&rules, "GET", "/other");
        assert!(!default.allow_anonymous && default.scopes.is_empty());
    }

    #[test]
    fn path_tricks_do_not_borrow_an_anonymous_rule() {
        let rules = rules();
        for path in [
            "/healthz/../admin",
            "/healthz/%2e%2e/admin",
            "//healthz/./../admin",
        ] {
            assert!(!requirement(&rules, "POST", path).allow_anonymous, "{path}");
            assert_eq!(
                requirement(&rules, "POST", path).scopes,
                ["write:admin"],
                "{path}"
            );
        }
        assert!(requirement(&rules, "GET", "/%68ealthz").allow_anonymous);
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize("/a//b/./c/../d?x=/../y"), "/a/b/d");
        assert_eq!(normalize("/../../"), "/");
        assert_eq!(normalize(""), "/");
        assert_eq!(normalize("/a/"), "/a/");
        assert_eq!(normalize("/a%2Fb%zz%4"), "/a/b%zz%4");
        assert_eq!(normalize("/a%5cb\\c%3F"), "/a/b/c%3F");
        assert_eq!(normalize("/public/%%32%65%%32%65/admin"), "/admin");
        for p in ["/x/%%32%66y", "/%%%32%35%32%46", "/a/%2525/b"] {
            assert_eq!(normalize(&normalize(p)), normalize(p), "{p}");
        }
        assert_eq!(normalize("/é/%41"), "/é/A");
    }

    #[test]
    fn scopes_from_scope_string_and_permissions() {
        let claims: Claims =
            serde_json::from_str(r#"{"scope":"read:a write:b","permissions":["admin:c"]}"#)
                .unwrap();
        let granted = granted_scopes(&claims);
        let need = |s: &[&str]| {
            let v: Vec<String> = s.iter().map(|x| x.to_string()).collect();
            missing_scopes(&v, &granted)
        };
        assert!(need(&["read:a", "admin:c"]).is_empty());
        assert_eq!(need(&["read:a", "write:c", "read"]), ["write:c", "read"]);
        let none: Claims = serde_json::from_str("{}").unwrap();
        assert_eq!(
            missing_scopes(&["x".to_string()], &granted_scopes(&none)),
            ["x"]
        );
    }
}
