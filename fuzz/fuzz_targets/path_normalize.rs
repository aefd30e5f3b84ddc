//! Request paths -> the normalised path rules are matched against. Oracles: no panic; the result is absolute,
//! free of query, fragment, empty and dot segments; and normalising is idempotent for paths without escapes.
#![no_main]

use jwt_guard::policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let out = policy::normalize(path);
    assert!(out.starts_with('/'), "{path:?} -> {out:?} is not absolute");
    assert!(
        !out.contains(['?', '#']),
        "{path:?} -> {out:?} keeps a query or fragment"
    );
    let inner = out.strip_suffix('/').unwrap_or(&out);
    for segment in inner.split('/').skip(1) {
        assert!(
            !segment.is_empty(),
            "{path:?} -> {out:?} has an empty segment"
        );
        assert!(
            segment != "." && segment != "..",
            "{path:?} -> {out:?} has a dot segment"
        );
    }
    if !path.contains('%') {
        assert_eq!(
            policy::normalize(&out),
            out,
            "normalising {path:?} twice changes it"
        );
    }
});
