//! Request path (and, after a newline, a method-override value) -> the requirement jwt-guard applies. Oracles:
//! no panic; the set of readings is small and contains the raw path and the fully normalised one; and the
//! applied requirement is never looser than the rule any single reading selects (checked with an independent
//! first-match over each reading, for every method and its HEAD/override variants).
#![no_main]

use jwt_guard::config::Config;
use jwt_guard::policy::{self, paths, Requirement};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::parse(
            br#"{"providers":[{"name":"p","issuer":"https://p/","audiences":["a"],"jwks_cluster":"c"},
                              {"name":"q","issuer":"https://q/","audiences":["a"],"jwks_cluster":"c"}],
                 "rules":[{"prefix":"/healthz","allow_anonymous":true},
                          {"prefix":"/public/","allow_anonymous":true},
                          {"prefix":"/admin","methods":["POST","DELETE"],"scopes":["write:admin"]},
                          {"prefix":"/admin","scopes":["read:admin"]},
                          {"prefix":"/items","methods":["GET"],"allow_anonymous":true},
                          {"prefix":"/Tenant","providers":["q"],"scopes":["t"]},
                          {"prefix":"/api/","providers":["p"]}]}"#,
        )
        .expect("fuzz config must parse")
    })
}

/// The first rule whose prefix starts `reading` (exactly) and that lists `method` (GET also HEAD).
fn single(cfg: &Config, method: &str, reading: &[u8]) -> Requirement {
    let rule = cfg.rules.iter().find(|r| {
        reading.starts_with(r.prefix.as_bytes())
            && (r.methods.is_empty()
                || r.methods.iter().any(|m| m == method || (m == "GET" && method == "HEAD")))
    });
    match rule {
        Some(r) => Requirement {
            allow_anonymous: r.allow_anonymous,
            scopes: r.scopes.clone(),
            providers: r.providers.clone(),
            step_up: r.step_up.clone().map(Box::new),
            claims: r.claims.clone(),
            report: r.mode == jwt_guard::config::Mode::Report,
        },
        None => Requirement::default(),
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
    let (path, override_value) = match text.split_once('\n') {
        Some((p, o)) => (p, Some(o)),
        None => (text.as_ref(), None),
    };
    let cfg = config();
    let overrides: Vec<&str> = override_value.into_iter().collect();
    let Ok(readings) = paths::readings(path) else {
        // Unjudgeable paths are refused outright.
        assert!(policy::requirement(cfg, "GET", path, &overrides).is_err());
        return;
    };
    assert!(!readings.is_empty() && readings.len() <= 96, "{} readings", readings.len());
    let raw = paths::path_part(path);
    assert!(readings.iter().any(|r| r.as_ref() == raw), "raw reading missing");
    if let Ok(full) = paths::decode_fixpoint(raw) {
        let normalised = paths::remove_dot_segments(&paths::merge_slashes(&paths::backslash_as_slash(&full)));
        assert!(readings.iter().any(|r| *r == normalised), "normalised reading missing for {path:?}");
    }
    for method in ["GET", "HEAD", "POST", "DELETE"] {
        let Ok(applied) = policy::requirement(cfg, method, path, &overrides) else {
            continue;
        };
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
                let one = single(cfg, m, reading);
                assert!(
                    at_least_as_strict(&applied, &one),
                    "{method} {path:?} (as {m}): applied {applied:?} is looser than reading {:?} -> {one:?}",
                    String::from_utf8_lossy(reading)
                );
            }
        }
    }
});
