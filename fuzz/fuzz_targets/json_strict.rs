//! Untrusted JSON (token headers and payloads, JWKS) -> strict object parser. Oracles: no panic, and whatever the
//! strict parser accepts, serde_json reads as the same value (so the two can never disagree about a claim).
#![no_main]

use jwt_guard::json;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(map) = json::parse_object(data) {
        let lenient: Value =
            serde_json::from_slice(data).expect("strict accepted what serde_json refuses");
        assert_eq!(
            Value::Object(map),
            lenient,
            "strict and lenient parses differ"
        );
    }
});
