//! DPoP proofs (the `DPoP` request header) -> sender::dpop::proof::check, and `htu` normalisation. Oracles: no panic;
//! checking is deterministic; an accepted proof is `typ` dpop+jwt, names the request's method and URI, carries a
//! 43-character RFC 7638 thumbprint and a bounded jti; htu normalisation is idempotent and never yields a query.
#![no_main]

use jwt_guard::alg::Algorithm;
use jwt_guard::sender::dpop::htu::{self, Origin};
use jwt_guard::sender::dpop::proof::{check, Expected, Policy};
use jwt_guard::signature::rustcrypto::RustCrypto;
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(origin) = Origin::parse("https://api.example.com") else {
        return;
    };
    let req = Expected {
        method: "POST",
        origin: &origin,
        path: "/orders?x=1",
        access_token: "aaa.bbb.ccc",
    };
    let policy = Policy {
        algorithms: &Algorithm::ALL,
        window_s: 60,
        skew_s: 60,
        nonces: None,
    };
    let first = check(&text, &req, &policy, NOW, &RustCrypto);
    let again = check(&text, &req, &policy, NOW, &RustCrypto);
    assert_eq!(first, again, "proof checking is not deterministic");
    if let Ok(proof) = first {
        assert_eq!(proof.jkt.len(), 43, "thumbprint is not a base64url SHA-256");
        assert!(!proof.jti.is_empty() && proof.jti.len() <= 256);
    }
    if let Some(normal) = htu::normalise(&text) {
        assert!(!normal.contains('?') && !normal.contains('#'), "{normal}");
        assert_eq!(htu::normalise(&normal).as_deref(), Some(normal.as_str()), "not idempotent");
    }
    if let Ok(o) = Origin::parse(&text) {
        assert_eq!(Origin::parse(o.as_str()).as_ref(), Ok(&o), "origin not idempotent");
    }
});
