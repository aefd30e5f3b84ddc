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
        let (_, found) = cfg
            .provider_for(&p.issuer)
            .expect("a configured issuer is found");
        assert_eq!(found.name, p.name);
    }
    for header in cfg.managed_headers() {
        assert!(
            !header.bytes().any(|b| b.is_ascii_uppercase()),
            "managed header {header:?} is not lower case"
        );
    }
    for path in ["/", "/admin", "/healthz/../admin"] {
        let _ = policy::requirement(&cfg, "GET", path, &["DELETE"]);
    }
});
