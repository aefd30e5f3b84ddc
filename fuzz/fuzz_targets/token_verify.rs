//! Token header values (one per line; a line `cookie: …` is a Cookie header, any other an Authorization value)
//! -> the filter's whole decision (extraction, strict parsing, issuer, keys, claims,
//! signature, scopes, cache), with a fixed inline JWKS and a fixed clock, through the differential backend
//! ("both": jwt-simple and a host-style check of RS*, and of ES256/ES384 as DER signatures over DER SPKI). Oracles:
//! no panic; the backends never disagree; the cached verdict equals the fresh one; and whatever is accepted verifies
//! with an independent implementation (oracle.rs).
#![no_main]

mod oracle;

use jwt_guard::authz::{self, Context, Request, Verdict};
use jwt_guard::cache::TokenCache;
use jwt_guard::config::{Config, KeySource};
use jwt_guard::jwks::KeySet;
use jwt_guard::signature::boringssl::{
    HostSignature, Transport, TransportError, VerifySignatureArguments, VerifySignatureResult,
};
use jwt_guard::signature::both::Both;
use jwt_guard::signature::jwtsimple::JwtSimple;
use jwt_guard::sources;
use jwt_guard::token::{self, Credentials};
use jwt_guard::verify;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use std::sync::OnceLock;

/// The clock the fixture tokens were minted for (fuzz/make_seeds.py NOW).
const NOW: u64 = 1_900_000_000;

fn jwks() -> &'static serde_json::Value {
    static JWKS: OnceLock<serde_json::Value> = OnceLock::new();
    JWKS.get_or_init(|| {
        let cfg: serde_json::Value =
            serde_json::from_slice(include_bytes!("../fixtures/config.json")).expect("json");
        serde_json::from_str(cfg["providers"][0]["jwks"].as_str().expect("inline jwks"))
            .expect("jwks json")
    })
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::parse(include_bytes!("../fixtures/config.json"))
            .expect("fixtures/config.json must parse")
    })
}

/// Stands in for Envoy's `verify_signature` (BoringSSL): DER SubjectPublicKeyInfo; PKCS#1 v1.5 by hash name for
/// RSA keys, DER-encoded ECDSA signatures for P-256 (sha256) and P-384 (sha384) keys.
struct RustCrypto;

fn ecdsa_verify(args: &VerifySignatureArguments) -> Option<bool> {
    use p256::pkcs8::DecodePublicKey as _;
    use rsa::signature::Verifier as _;
    if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(&args.public_key) {
        let ok = args.hash_function == "sha256"
            && p256::ecdsa::Signature::from_der(&args.signature)
                .is_ok_and(|sig| key.verify(&args.text, &sig).is_ok());
        return Some(ok);
    }
    if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_der(&args.public_key) {
        let ok = args.hash_function == "sha384"
            && p384::ecdsa::Signature::from_der(&args.signature)
                .is_ok_and(|sig| key.verify(&args.text, &sig).is_ok());
        return Some(ok);
    }
    None
}

impl Transport for RustCrypto {
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, TransportError> {
        let args =
            VerifySignatureArguments::decode(arguments).map_err(|_| TransportError::Empty)?;
        let ok = match ecdsa_verify(&args) {
            Some(ok) => ok,
            None => {
                let key = RsaPublicKey::from_public_key_der(&args.public_key)
                    .map_err(|_| TransportError::Empty)?;
                let sig = Signature::try_from(args.signature.as_slice())
                    .map_err(|_| TransportError::Empty)?;
                match args.hash_function.as_str() {
                    "sha256" => VerifyingKey::<sha2::Sha256>::new(key)
                        .verify(&args.text, &sig)
                        .is_ok(),
                    "sha384" => VerifyingKey::<sha2::Sha384>::new(key)
                        .verify(&args.text, &sig)
                        .is_ok(),
                    "sha512" => VerifyingKey::<sha2::Sha512>::new(key)
                        .verify(&args.text, &sig)
                        .is_ok(),
                    _ => return Err(TransportError::Empty),
                }
            }
        };
        Ok(VerifySignatureResult {
            result: ok,
            error: String::new(),
        }
        .encode_to_vec())
    }
}

fn inline_keys(cfg: &Config, i: usize) -> Option<&KeySet> {
    match cfg.providers.get(i).map(|p| &p.keys) {
        Some(KeySource::Inline(set)) => Some(set),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let cfg = config();
    let text = String::from_utf8_lossy(data);
    let headers: Vec<(&str, &str)> = text
        .split('\n')
        .map(|line| match line.strip_prefix("cookie: ") {
            Some(cookie) => ("cookie", cookie),
            None => ("authorization", line),
        })
        .collect();
    // RS* only on the stand-in host (ES* stay on jwt-simple here; the signature module's unit tests
    // check the ES* DER path against RustCrypto p256/p384).
    let backend = Both::new(JwtSimple, HostSignature::new(RustCrypto, true));
    let ctx = Context {
        config: cfg,
        now: NOW,
        backend: &backend,
        // No shared data: DPoP-bound tokens are refused (their proofs cannot be recorded).
        sender: None,
    };
    for (method, path) in [
        ("GET", "/api/items"),
        ("DELETE", "/admin/users"),
        ("GET", "/healthz/../admin"),
        ("GET", "/claims/x"),
        ("GET", "/report/x"),
    ] {
        let req = Request {
            method,
            path,
            token_headers: &headers,
            method_overrides: &[],
            dpop: &[],
            origin: None,
            peer_certificate: &jwt_guard::sender::mtls::NO_CERTIFICATE,
            route: Default::default(),
        };
        let mut cache = TokenCache::new(4);
        let fresh = authz::decide(&ctx, &req, |i| inline_keys(cfg, i), &mut cache);
        let cached = authz::decide(&ctx, &req, |i| inline_keys(cfg, i), &mut cache);
        assert_eq!(fresh, cached, "a cached verdict differs from the fresh one");
        if let Verdict::Allow { .. } | Verdict::Report { would: None, .. } = fresh {
            let lookup = |name: &str| {
                headers
                    .iter()
                    .filter(|(n, _)| *n == name)
                    .map(|(_, v)| *v)
                    .collect()
            };
            if let Credentials::Bearer(tok) = sources::extract(&cfg.token_sources, lookup) {
                assert!(
                    oracle::genuine(tok, jwks()),
                    "accepted a token that does not verify independently: {tok:?}"
                );
            }
        }
    }
    assert_eq!(
        backend.take_disagreements(),
        0,
        "signature backends disagree"
    );
    // The token parser and verifier on their own, with the largest size bound the configuration allows.
    if let Ok(jws) = token::parse(&text, 64 * 1024) {
        for (i, provider) in cfg.providers.iter().enumerate() {
            if let Some(keys) = inline_keys(cfg, i) {
                let verdict = verify::verify(&jws, provider, keys, NOW, 60, &backend);
                if verdict.is_ok() {
                    assert!(
                        oracle::genuine(&text, jwks()),
                        "verify accepted a token that does not verify independently"
                    );
                }
            }
        }
        assert_eq!(
            backend.take_disagreements(),
            0,
            "signature backends disagree"
        );
    }
});
