//! Request path and route facts -> the requirement jwt-guard applies. Input: the path, then optional lines: a
//! method-override value, the `:authority`, the route's name, the rule the route's metadata names. Oracles: no
//! panic; the set of readings is small and contains the raw path and the fully normalised one; a route naming an
//! unknown rule is refused; and the applied requirement is never looser than the rule any single reading selects
//! (an independent first match over each reading of the path and the host, for every method and its HEAD/override
//! variants, with its own template, host and route-name matching), nor than the rule the route names.
#![no_main]

use jwt_guard::config::{Config, Rule};
use jwt_guard::policy::{self, paths, Requirement, Route};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

const CONFIG: &str = r#"{"providers":[{"name":"p","issuer":"https://p/","audiences":["a"],"jwks_cluster":"c"},
                                    {"name":"q","issuer":"https://q/","audiences":["a"],"jwks_cluster":"c"}],
     "rules":[{"prefix":"/healthz","allow_anonymous":true},
              {"path":"/users/me","allow_anonymous":true},
              {"uri_template":"/users/{id}/admin","scopes":["admin"]},
              {"uri_template":"/users/{id}/files/{rest=**}","providers":["p"]},
              {"uri_template":"/v*/{doc}.pdf","allow_anonymous":true},
              {"path_separated_prefix":"/public","allow_anonymous":true},
              {"hosts":["*.tenant-b.test"],"scopes":["b"]},
              {"hosts":["open.test","[::1]"],"allow_anonymous":true},
              {"route_names":["admin-*"],"scopes":["write:admin"]},
              {"route_names":["status"],"path":"/status","allow_anonymous":true},
              {"prefix":"/admin","methods":["POST","DELETE"],"scopes":["write:admin"]},
              {"prefix":"/admin","scopes":["read:admin"]},
              {"prefix":"/items","methods":["GET"],"allow_anonymous":true},
              {"prefix":"/Tenant","providers":["q"],"scopes":["t"]},
              {"uri_template":"/reports/**","mode":"report","scopes":["r"]},
              {"prefix":"/api/","providers":["p"]},
              {"name":"lax","allow_anonymous":true},
              {"name":"strict","scopes":["s"],"providers":["q"]},
              {"name":"quiet","mode":"report"}]}"#;

fn config() -> &'static (Config, Vec<Value>) {
    static CONFIG_AND_RULES: OnceLock<(Config, Vec<Value>)> = OnceLock::new();
    CONFIG_AND_RULES.get_or_init(|| {
        let cfg = Config::parse(CONFIG.as_bytes()).expect("fuzz config must parse");
        let doc: Value = serde_json::from_str(CONFIG).expect("fuzz config is JSON");
        let rules = doc["rules"].as_array().expect("rules").clone();
        (cfg, rules)
    })
}

/// Whether `path` matches the whole `template` (Envoy syntax), read straight from the template text.
fn template_matches(template: &[u8], path: &[u8]) -> bool {
    match template.first() {
        None => path.is_empty(),
        Some(b'{') => {
            let close = template.iter().position(|&c| c == b'}').expect("balanced");
            let inner = &template[1..close];
            let pattern = match inner.iter().position(|&c| c == b'=') {
                Some(eq) => &inner[eq + 1..],
                None => b"*",
            };
            template_matches(&[pattern, &template[close + 1..]].concat(), path)
        }
        Some(b'*') if template.get(1) == Some(&b'*') => true,
        Some(b'*') => (1..=path.len())
            .take_while(|&k| path[k - 1] != b'/')
            .any(|k| template_matches(&template[1..], &path[k..])),
        Some(&c) => path.first() == Some(&c) && template_matches(&template[1..], &path[1..]),
    }
}

/// The host readings: lower case, no userinfo, no port; and without trailing dots.
fn host_readings(authority: &str) -> Vec<String> {
    let after_user = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let host = if after_user.starts_with('[') {
        match after_user.find(']') {
            Some(end) => &after_user[..=end],
            None => after_user,
        }
    } else {
        after_user.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    let bare = host.trim_end_matches('.').to_string();
    if bare != host && !bare.is_empty() {
        vec![host, bare]
    } else {
        vec![host]
    }
}

fn host_matches(pattern: &str, host: Option<&str>) -> bool {
    match (pattern, host) {
        ("*", _) => true,
        (_, None) => false,
        (p, Some(h)) => match p.strip_prefix('*') {
            Some(suffix) => h.ends_with(suffix) && h.len() > suffix.len(),
            None => p.eq_ignore_ascii_case(h),
        },
    }
}

fn route_name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(head) => name.starts_with(head),
        None => pattern == name,
    }
}

/// Whether rule `r` (as written in the JSON) matches one reading, exactly.
fn rule_matches(r: &Value, method: &str, reading: &[u8], host: Option<&str>, route: &str) -> bool {
    let text = |k: &str| r.get(k).and_then(Value::as_str);
    let list = |k: &str| r.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>());
    let path_given = ["path", "prefix", "path_separated_prefix", "uri_template"].iter().any(|k| text(k).is_some());
    if !path_given && list("hosts").is_none() && list("route_names").is_none() {
        return false;
    }
    let path_ok = if let Some(p) = text("path") {
        reading == p.as_bytes()
    } else if let Some(p) = text("prefix") {
        reading.starts_with(p.as_bytes())
    } else if let Some(p) = text("path_separated_prefix") {
        reading == p.as_bytes() || reading.starts_with(format!("{p}/").as_bytes())
    } else if let Some(t) = text("uri_template") {
        template_matches(t.as_bytes(), reading)
    } else {
        true
    };
    let methods = list("methods").unwrap_or_default();
    path_ok
        && list("hosts").is_none_or(|hs| hs.iter().any(|h| host_matches(h, host)))
        && list("route_names").is_none_or(|ns| ns.iter().any(|n| route_name_matches(n, route)))
        && (methods.is_empty() || methods.iter().any(|m| *m == method || (*m == "GET" && method == "HEAD")))
}

fn of(r: &Rule) -> Requirement {
    Requirement {
        allow_anonymous: r.allow_anonymous,
        scopes: r.scopes.clone(),
        providers: r.providers.clone(),
        step_up: r.step_up.clone().map(Box::new),
        claims: r.claims.clone(),
        report: r.mode == jwt_guard::config::Mode::Report,
    }
}

fn at_least_as_strict(a: &Requirement, b: &Requirement) -> bool {
    (b.allow_anonymous || !a.allow_anonymous)
        && b.scopes.iter().all(|s| a.scopes.contains(s))
        && match (&a.providers, &b.providers) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => x.iter().all(|i| y.contains(i)),
        }
        && b.claims.iter().all(|c| a.claims.contains(c))
        && (b.report || !a.report)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let path = lines.next().unwrap_or("");
    let override_value = lines.next();
    let authority = lines.next();
    let route_name = lines.next();
    let route_rule = lines.next().filter(|r| !r.is_empty());
    let (cfg, written) = config();
    let overrides: Vec<&str> = override_value.into_iter().collect();
    let route = Route {
        authority,
        name: route_name,
        rule: route_rule,
    };
    let named = route_rule.map(|name| cfg.rules.iter().position(|r| r.matchers.name.as_deref() == Some(name)));
    if let Some(None) = named {
        assert!(policy::requirement(cfg, "GET", path, &overrides, &route).is_err(), "unknown rule {route_rule:?} passed");
        return;
    }
    let Ok(readings) = paths::readings(path) else {
        // Unjudgeable paths are refused outright.
        assert!(policy::requirement(cfg, "GET", path, &overrides, &route).is_err());
        return;
    };
    assert!(!readings.is_empty() && readings.len() <= 96, "{} readings", readings.len());
    let raw = paths::path_part(path);
    assert!(readings.iter().any(|r| r.as_ref() == raw), "raw reading missing");
    if let Ok(full) = paths::decode_fixpoint(raw) {
        let normalised = paths::remove_dot_segments(&paths::merge_slashes(&paths::backslash_as_slash(&full)));
        assert!(readings.iter().any(|r| *r == normalised), "normalised reading missing for {path:?}");
    }
    let hosts: Vec<Option<String>> = match authority {
        Some(a) => host_readings(a).into_iter().map(Some).collect(),
        None => vec![None],
    };
    let named_rule = named.flatten().and_then(|i| cfg.rules.get(i));
    for method in ["GET", "HEAD", "POST", "DELETE"] {
        let Ok(applied) = policy::requirement(cfg, method, path, &overrides, &route) else {
            continue;
        };
        if let Some(rule) = named_rule {
            let one = of(rule);
            assert!(at_least_as_strict(&applied, &one), "{method} {path:?}: applied {applied:?} is looser than the named rule {one:?}");
        }
        let mut methods = vec![method.to_string()];
        methods.extend(
            overrides
                .iter()
                .flat_map(|v| v.split(','))
                .map(|m| m.trim_matches([' ', '\t']).to_ascii_uppercase())
                .filter(|m| !m.is_empty()),
        );
        for m in &methods {
            for reading in &readings {
                for host in &hosts {
                    let first = written
                        .iter()
                        .position(|r| rule_matches(r, m, reading, host.as_deref(), route_name.unwrap_or("")));
                    let one = match first.and_then(|i| cfg.rules.get(i)) {
                        Some(rule) => of(rule),
                        // With a named rule, the default for "no rule matches" does not apply.
                        None if named_rule.is_some() => continue,
                        None => Requirement::default(),
                    };
                    assert!(
                        at_least_as_strict(&applied, &one),
                        "{method} {path:?} host {host:?} route {route_name:?} (as {m}): applied {applied:?} is looser than reading {:?} -> {one:?}",
                        String::from_utf8_lossy(reading)
                    );
                }
            }
        }
    }
});
