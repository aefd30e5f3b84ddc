//! JWKS documents (what the IdP endpoint returns) -> KeySet. Oracles: no panic, parsing is deterministic, and a
//! parsed set is never empty and never larger than the document allows.
#![no_main]

use jwt_guard::alg::Algorithm;
use jwt_guard::jwks::{KeySet, MAX_KEYS};
use libfuzzer_sys::fuzz_target;

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
        for kid in set.kids() {
            assert!(set.has_kid(kid));
        }
    }
    // Restricted allow-lists must not panic either, and can only keep fewer keys.
    if let (Ok(full), Ok(rs)) = (&first, KeySet::parse(data, &[Algorithm::RS256])) {
        assert!(rs.len() <= full.len());
    }
    let _ = KeySet::parse(data, &[Algorithm::ES256, Algorithm::EdDSA]);
});
