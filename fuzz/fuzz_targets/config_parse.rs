//! Plugin configuration JSON -> Config. Oracles: no panic; an accepted configuration satisfies the documented
//! bounds, and its rules and issuers can be used.
#![no_main]

use jwt_guard::config::Config;
use jwt_guard::policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cfg) = Config::parse(data) else { return };
    assert!(
        !cfg.providers.is_empty(),
        "a configuration without providers was accepted"
    );
    assert!((256..=64 * 1024).contains(&cfg.max_token_bytes));
    assert!(cfg.clock_skew_s <= 600);
    for p in &cfg.providers {
        assert!(
            !p.audiences.is_empty(),
            "provider {} accepted without audiences",
            p.name
        );
        assert!(
            !p.algorithms.is_empty(),
            "provider {} accepted without algorithms",
            p.name
        );
        assert!(!p.issuers.is_empty(), "provider {} without issuers", p.name);
        for issuer in &p.issuers {
            let (_, found) = cfg
                .provider_for(issuer)
                .expect("a configured issuer is found");
            assert_eq!(found.name, p.name, "issuer {issuer:?} claimed by two providers");
        }
    }
    assert!(!cfg.token_headers().is_empty(), "no token source");
    for rule in &cfg.rules {
        assert!(rule.claims.len() <= jwt_guard::claims::MAX_CLAIM_RULES);
        assert!(rule.claims.iter().all(|c| !c.name().is_empty()));
    }
    for header in cfg.managed_headers() {
        assert!(
            !header.bytes().any(|b| b.is_ascii_uppercase()),
            "managed header {header:?} is not lower case"
        );
    }
    // Every configured rule name can be named by a route; the route facts never panic.
    let names = std::iter::once(None).chain(cfg.rules.iter().map(|r| r.matchers.name.as_deref()));
    for rule in names {
        let route = policy::Route { authority: Some("API.example.test.:443"), name: Some("route"), rule };
        for path in ["/", "/admin", "/healthz/../admin"] {
            let named = policy::requirement(&cfg, "GET", path, &["DELETE"], &route);
            assert!(!matches!(named, Err(jwt_guard::reject::Denial::UnknownRouteRule(_))), "{rule:?}");
        }
    }
});
