//! JWKS documents (what the IdP endpoint returns) -> KeySet. Oracles: no panic; parsing is deterministic; a parsed
//! set is never empty nor larger than MAX_KEYS; no kid ever selects two keys for one algorithm (no ambiguity); and
//! a restricted allow-list never yields a key for an algorithm outside it.
//! (A restricted list may keep *more* keys than the full one: two JWKs sharing a kid are dropped as ambiguous only
//! while both are usable, e.g. an RS384 one and an alg-less one under an RS256-only list are not twins.)
#![no_main]

use jwt_guard::alg::Algorithm;
use jwt_guard::jwks::{KeySet, MAX_KEYS};
use libfuzzer_sys::fuzz_target;

fn unambiguous(set: &KeySet) {
    for kid in set.kids() {
        assert!(set.has_kid(kid));
        for alg in Algorithm::ALL {
            assert!(
                set.candidates(Some(kid), alg).count() <= 1,
                "kid {kid:?} selects two {alg} keys"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let all = Algorithm::ALL;
    let first = KeySet::parse(data, &all);
    let again = KeySet::parse(data, &all);
    assert_eq!(
        first.is_ok(),
        again.is_ok(),
        "KeySet::parse is not deterministic"
    );
    if let (Ok(set), Ok(same)) = (&first, &again) {
        assert!(!set.is_empty(), "an Ok key set holds no key");
        assert!(set.len() <= MAX_KEYS, "more keys than MAX_KEYS");
        assert_eq!(set.kids(), same.kids());
        unambiguous(set);
    }
    for allowed in [
        &[Algorithm::RS256][..],
        &[Algorithm::ES256, Algorithm::EdDSA][..],
    ] {
        if let Ok(set) = KeySet::parse(data, allowed) {
            unambiguous(&set);
            for alg in all.into_iter().filter(|a| !allowed.contains(a)) {
                assert_eq!(
                    set.candidates(None, alg).count(),
                    0,
                    "a key for {alg} outside the allow-list"
                );
            }
        }
    }
});
