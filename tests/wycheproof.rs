//! Project Wycheproof's signature vectors through each of jwt-guard's signature paths, for
//! every family of algorithm it accepts. Every key goes through JWKS parsing as a real
//! key would; every vector then goes through
//! - jwt-simple, the reference backend: the very calls its `verify_token` makes on the
//!   signing input (a Wycheproof message is not a JWS, so the token parsing around them is
//!   left out; `jwt_simple_calls_match_the_backend` ties the two together);
//! - the host path, `HostSignature`: the key's DER SubjectPublicKeyInfo, R‖S → DER, the
//!   `verify_signature` arguments, answered by AWS-LC (a BoringSSL fork) called exactly as
//!   Envoy calls BoringSSL (`EVP_parse_public_key`, `EVP_DigestVerifyInit`,
//!   `EVP_DigestVerify`);
//! - the RustCrypto path that verifies DPoP proofs.
//!
//! Every `valid` vector must verify and every `invalid` one fail, on every path; the
//! `acceptable` ones (RSA PKCS#1 v1.5 without the NULL digest parameter) must be refused
//! by every path.
//! Run with `--nocapture` to see the counts per family.

// Test code: a broken expectation is a failed test (clippy.toml allows these in tests; an
// integration test's helpers are not recognised as such).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use jwt_guard::alg::Algorithm;
use jwt_guard::b64;
use jwt_guard::jwks::{Key, KeySet, Material};
use jwt_guard::signature::boringssl::{
    HostSignature, Transport, TransportError, VerifySignatureArguments, VerifySignatureResult,
};
use jwt_guard::signature::rustcrypto::RustCrypto;
use jwt_guard::signature::wycheproof::{self as module, Expected, Route};
use jwt_simple::prelude::{
    ECDSAP256PublicKeyLike, ECDSAP384PublicKeyLike, EdDSAPublicKeyLike, RSAPublicKeyLike,
};
use p256::ecdsa::signature::Verifier as _;
use prost::Message;
use std::cell::{Cell, RefCell};
use wycheproof::TestResult;

/// Envoy's `verify_signature` (`source/common/crypto/utility_impl.cc`), over AWS-LC.
mod boring {
    use aws_lc_sys as ffi;
    use std::ptr;

    /// What `verify_signature` answers: `hash` names the digest as Envoy spells it,
    /// `key` is a DER SubjectPublicKeyInfo. Also whether the key had trailing bytes.
    pub fn verify(hash: &str, key: &[u8], signature: &[u8], text: &[u8]) -> (bool, bool) {
        // SAFETY: the digest getters return static tables.
        let md = unsafe {
            match hash {
                "sha1" => ffi::EVP_sha1(),
                "sha224" => ffi::EVP_sha224(),
                "sha256" => ffi::EVP_sha256(),
                "sha384" => ffi::EVP_sha384(),
                "sha512" => ffi::EVP_sha512(),
                _ => return (false, false),
            }
        };
        // SAFETY: every pointer comes from AWS-LC or from a live slice, and every object
        // created here is freed here.
        unsafe {
            let mut cbs: ffi::CBS = std::mem::zeroed();
            ffi::CBS_init(&mut cbs, key.as_ptr(), key.len());
            let pkey = ffi::EVP_parse_public_key(&mut cbs);
            let trailing = ffi::CBS_len(&cbs) != 0;
            if pkey.is_null() {
                ffi::ERR_clear_error();
                return (false, trailing);
            }
            let ctx = ffi::EVP_MD_CTX_new();
            let ok = !ctx.is_null()
                && ffi::EVP_DigestVerifyInit(ctx, ptr::null_mut(), md, ptr::null_mut(), pkey) == 1
                && ffi::EVP_DigestVerify(
                    ctx,
                    signature.as_ptr(),
                    signature.len(),
                    text.as_ptr(),
                    text.len(),
                ) == 1;
            ffi::EVP_MD_CTX_free(ctx);
            ffi::EVP_PKEY_free(pkey);
            ffi::ERR_clear_error();
            (ok, trailing)
        }
    }
}

/// The host: decodes the arguments, answers with [`boring::verify`], and keeps the last
/// arguments sent.
#[derive(Default)]
struct StandIn {
    calls: Cell<usize>,
    last: RefCell<Option<VerifySignatureArguments>>,
}

impl Transport for StandIn {
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, TransportError> {
        let args =
            VerifySignatureArguments::decode(arguments).map_err(|_| TransportError::Empty)?;
        let (ok, trailing) = boring::verify(
            &args.hash_function,
            &args.public_key,
            &args.signature,
            &args.text,
        );
        assert!(!trailing, "the SubjectPublicKeyInfo has trailing bytes");
        self.calls.set(self.calls.get() + 1);
        *self.last.borrow_mut() = Some(args);
        Ok(VerifySignatureResult {
            result: ok,
            error: String::new(),
        }
        .encode_to_vec())
    }
}

/// jwt-simple's RSA check, as in its `RSAPublicKeyLike::verify_token`.
fn jwt_simple_rsa<K: RSAPublicKeyLike>(key: &K, message: &[u8], signature: &[u8]) -> bool {
    use superboring::pkey::PKey;
    use superboring::sign::Verifier;
    let verified = || -> Result<bool, superboring::error::ErrorStack> {
        let pkey = PKey::from_rsa(key.public_key().as_ref().clone())?;
        let mut verifier = Verifier::new(K::hash(), &pkey)?;
        verifier.set_rsa_padding(key.padding_scheme())?;
        verifier.update(message)?;
        verifier.verify(signature)
    };
    verified().unwrap_or(false)
}

/// jwt-simple's check of `signature` over `message` with `key`: the calls each of its
/// `verify_token` implementations makes once the token is parsed.
fn jwt_simple(key: &Key, message: &[u8], signature: &[u8]) -> bool {
    match &key.material {
        Material::RS256(k) => jwt_simple_rsa(k, message, signature),
        Material::RS384(k) => jwt_simple_rsa(k, message, signature),
        Material::RS512(k) => jwt_simple_rsa(k, message, signature),
        Material::PS256(k) => jwt_simple_rsa(k, message, signature),
        Material::PS384(k) => jwt_simple_rsa(k, message, signature),
        Material::PS512(k) => jwt_simple_rsa(k, message, signature),
        Material::ES256(k) => p256::ecdsa::Signature::try_from(signature)
            .is_ok_and(|s| k.public_key().as_ref().verify(message, &s).is_ok()),
        Material::ES384(k) => p384::ecdsa::Signature::try_from(signature)
            .is_ok_and(|s| k.public_key().as_ref().verify(message, &s).is_ok()),
        Material::EdDSA(k) => ed25519_compact::Signature::from_slice(signature)
            .is_ok_and(|s| k.public_key().as_ref().verify(message, &s).is_ok()),
    }
}

/// One vector, whatever its family.
struct Vector {
    id: usize,
    message: Vec<u8>,
    signature: Vec<u8>,
    result: TestResult,
    flags: String,
}

impl Vector {
    fn new(
        id: usize,
        message: &[u8],
        signature: &[u8],
        result: TestResult,
        flags: impl std::fmt::Debug,
    ) -> Vector {
        Vector {
            id,
            message: message.to_vec(),
            signature: signature.to_vec(),
            result,
            flags: format!("{flags:?}"),
        }
    }
}

/// The answers of one family, path by path.
struct Tally {
    family: String,
    paths: Vec<&'static str>,
    run: usize,
    valid: usize,
    invalid: usize,
    /// Vectors each path answered as Wycheproof expects, in the order of `paths`.
    matched: Vec<usize>,
    mismatches: Vec<String>,
    acceptable: Vec<String>,
}

impl Tally {
    fn new(family: impl Into<String>, paths: &[&'static str]) -> Tally {
        Tally {
            family: family.into(),
            paths: paths.to_vec(),
            run: 0,
            valid: 0,
            invalid: 0,
            matched: vec![0; paths.len()],
            mismatches: vec![],
            acceptable: vec![],
        }
    }

    /// Records the answers (`true`: verified) of every path to `v`.
    fn record(&mut self, v: &Vector, answers: &[bool]) {
        assert_eq!(answers.len(), self.paths.len());
        self.run += 1;
        let expected = match v.result {
            TestResult::Valid => {
                self.valid += 1;
                true
            }
            TestResult::Invalid => {
                self.invalid += 1;
                false
            }
            TestResult::Acceptable => {
                let said: Vec<String> = self
                    .paths
                    .iter()
                    .zip(answers)
                    .map(|(p, a)| format!("{p} {}", if *a { "accepts" } else { "refuses" }))
                    .collect();
                self.acceptable
                    .push(format!("tc {} {}: {}", v.id, v.flags, said.join(", ")));
                // Pinned: every path refuses them (RSA `MissingNull`, the only ones).
                if answers.iter().any(|a| *a) {
                    self.mismatches
                        .push(format!("tc {} {}: acceptable, verified", v.id, v.flags));
                }
                for m in &mut self.matched {
                    *m += 1;
                }
                return;
            }
        };
        for (i, answer) in answers.iter().enumerate() {
            if *answer == expected {
                self.matched[i] += 1;
            } else {
                self.mismatches.push(format!(
                    "tc {} {} ({:?}): {} says {}",
                    v.id,
                    v.flags,
                    v.result,
                    self.paths[i],
                    if *answer { "valid" } else { "invalid" }
                ));
            }
        }
    }

    /// Prints the counts and fails on any mismatch.
    fn finish(self) -> Tally {
        let paths: Vec<String> = self
            .paths
            .iter()
            .zip(&self.matched)
            .map(|(p, m)| format!("{p} {m}/{}", self.run))
            .collect();
        println!(
            "{}: {} vectors ({} valid, {} invalid, {} acceptable); matched: {}",
            self.family,
            self.run,
            self.valid,
            self.invalid,
            self.acceptable.len(),
            paths.join(", ")
        );
        for a in &self.acceptable {
            println!("  acceptable {a}");
        }
        assert!(self.run > 0, "{}: no vector ran", self.family);
        assert!(
            self.mismatches.is_empty(),
            "{}: {} mismatches:\n{}",
            self.family,
            self.mismatches.len(),
            self.mismatches.join("\n")
        );
        self
    }
}

/// The JWKS of one key, as an IdP would publish it.
fn jwks(jwk: serde_json::Value) -> Vec<u8> {
    serde_json::json!({ "keys": [jwk] })
        .to_string()
        .into_bytes()
}

/// The one key of `doc`, parsed for `alg` as a provider's JWKS is.
fn parse_keys(doc: &[u8], alg: Algorithm) -> KeySet {
    KeySet::parse(doc, &[alg]).unwrap_or_else(|e| panic!("{alg} key refused: {e}"))
}

fn only_key(set: &KeySet, alg: Algorithm) -> &Key {
    set.candidates(None, alg).next().expect("one key")
}

fn rsa_jwk(n: &[u8], e: &[u8], alg: Algorithm) -> Vec<u8> {
    let n: Vec<u8> = n.iter().copied().skip_while(|b| *b == 0).collect();
    jwks(serde_json::json!({
        "kty": "RSA", "alg": alg.name(), "n": b64::encode(&n), "e": b64::encode(e),
    }))
}

/// The JWK of an uncompressed SEC1 point.
fn ec_jwk(point: &[u8], crv: &str, alg: Algorithm) -> Vec<u8> {
    let coordinates = point.get(1..).expect("a point");
    let (x, y) = coordinates.split_at(coordinates.len() / 2);
    jwks(serde_json::json!({
        "kty": "EC", "crv": crv, "alg": alg.name(), "x": b64::encode(x), "y": b64::encode(y),
    }))
}

/// The three paths over one vector, in the order of [`ALL_PATHS`].
fn three_paths(host: &HostSignature<&StandIn>, key: &Key, v: &Vector) -> [bool; 3] {
    assert!(host.serves(key), "{} must be checked on the host", key.alg);
    [
        jwt_simple(key, &v.message, &v.signature),
        host.check_message(key, &v.signature, &v.message).is_ok(),
        RustCrypto::check_message(key, &v.signature, &v.message).is_ok(),
    ]
}

/// jwt-simple and DPoP for the algorithms the host never sees (PS*, EdDSA).
fn local_paths(host: &HostSignature<&StandIn>, key: &Key, v: &Vector) -> [bool; 2] {
    assert!(!host.serves(key), "{} must not reach the host", key.alg);
    [
        jwt_simple(key, &v.message, &v.signature),
        RustCrypto::check_message(key, &v.signature, &v.message).is_ok(),
    ]
}

const ALL_PATHS: [&str; 3] = ["jwt-simple", "host", "dpop"];
const LOCAL_PATHS: [&str; 2] = ["jwt-simple", "dpop"];

fn host(boring: &StandIn) -> HostSignature<&StandIn> {
    HostSignature::new(boring, true)
}

#[test]
fn ecdsa_p1363_through_every_path() {
    use wycheproof::ecdsa::{TestName, TestSet};
    for (name, crv, alg) in [
        (
            TestName::EcdsaSecp256r1Sha256P1363,
            "P-256",
            Algorithm::ES256,
        ),
        (
            TestName::EcdsaSecp384r1Sha384P1363,
            "P-384",
            Algorithm::ES384,
        ),
    ] {
        let set = TestSet::load(name).unwrap();
        let boring = StandIn::default();
        let host = host(&boring);
        let mut tally = Tally::new(format!("{alg} (P1363, {name:?})"), &ALL_PATHS);
        for group in set.test_groups {
            let keys = parse_keys(&ec_jwk(&group.key.key, crv, alg), alg);
            let key = only_key(&keys, alg);
            for t in &group.tests {
                let v = Vector::new(t.tc_id, &t.msg, &t.sig, t.result, &t.flags);
                tally.record(&v, &three_paths(&host, key, &v));
            }
        }
        let tally = tally.finish();
        // Only R‖S of the right length becomes DER; the others fail before the host.
        assert!(boring.calls.get() > tally.valid, "the host answered");
    }
}

/// R and S of a strict DER `ECDSA-Sig-Value` (minimal lengths, minimal non-negative
/// integers, nothing after), each left-padded to `half` bytes: the JWS form of the same
/// signature. `None` for anything else.
fn strict_der_to_p1363(der: &[u8], half: usize) -> Option<Vec<u8>> {
    fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x81 => {
                let (&len, rest) = rest.split_first()?;
                (len >= 0x80).then_some((usize::from(len), rest))?
            }
            _ => return None,
        };
        (t == tag && rest.len() >= len).then(|| rest.split_at(len))
    }
    let (body, rest) = element(der, 0x30)?;
    let (r, body) = element(body, 0x02)?;
    let (s, body) = element(body, 0x02)?;
    if !rest.is_empty() || !body.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(2 * half);
    for int in [r, s] {
        let negative = int.first().is_none_or(|b| b & 0x80 != 0);
        let padded = int.len() > 1 && int[0] == 0 && int[1] & 0x80 == 0;
        if negative || padded {
            return None;
        }
        let digits = if int[0] == 0 { &int[1..] } else { int };
        let pad = half.checked_sub(digits.len())?;
        out.extend(std::iter::repeat_n(0, pad));
        out.extend_from_slice(digits);
    }
    Some(out)
}

#[test]
fn ecdsa_der_through_the_host_and_the_conversion() {
    use wycheproof::ecdsa::{TestName, TestSet};
    for (name, crv, alg, hash, half) in [
        (
            TestName::EcdsaSecp256r1Sha256,
            "P-256",
            Algorithm::ES256,
            "sha256",
            32,
        ),
        (
            TestName::EcdsaSecp384r1Sha384,
            "P-384",
            Algorithm::ES384,
            "sha384",
            48,
        ),
    ] {
        let set = TestSet::load(name).unwrap();
        let boring = StandIn::default();
        let host = host(&boring);
        // Every DER vector as the host receives it, with the SubjectPublicKeyInfo
        // jwt-guard builds: the host's own strictness about DER.
        let mut as_sent = Tally::new(format!("{alg} (DER as sent, {name:?})"), &["host"]);
        // The strict-DER ones in their JWS form (R‖S), through every path: the R‖S → DER
        // conversion must give back the vector's DER byte for byte.
        let mut converted = Tally::new(format!("{alg} (DER → R‖S, {name:?})"), &ALL_PATHS);
        for group in set.test_groups {
            let keys = parse_keys(&ec_jwk(&group.key.key, crv, alg), alg);
            let key = only_key(&keys, alg);
            let spki = key
                .spki
                .as_deref()
                .expect("an EC key has a SubjectPublicKeyInfo");
            for t in &group.tests {
                let v = Vector::new(t.tc_id, &t.msg, &t.sig, t.result, &t.flags);
                as_sent.record(&v, &[boring::verify(hash, spki, &t.sig, &t.msg).0]);
                let Some(rs) = strict_der_to_p1363(&t.sig, half) else {
                    assert_ne!(
                        t.result,
                        TestResult::Valid,
                        "tc {}: valid, not DER",
                        t.tc_id
                    );
                    continue;
                };
                let v = Vector::new(t.tc_id, &t.msg, &rs, t.result, &t.flags);
                converted.record(&v, &three_paths(&host, key, &v));
                let sent = boring
                    .last
                    .borrow_mut()
                    .take()
                    .expect("the host was called");
                assert_eq!(sent.signature, *t.sig, "tc {}: R‖S → DER", t.tc_id);
            }
        }
        as_sent.finish();
        let converted = converted.finish();
        assert_eq!(boring.calls.get(), converted.run);
    }
}

/// For a hash JWS uses with RSA: the digest name Envoy's `verify_signature` takes, the
/// RS* and the PS* algorithm, and the hash's length.
fn rsa_hash(hash: wycheproof::HashFunction) -> Option<(&'static str, Algorithm, Algorithm, usize)> {
    use wycheproof::HashFunction::*;
    match hash {
        Sha2_256 => Some(("sha256", Algorithm::RS256, Algorithm::PS256, 32)),
        Sha2_384 => Some(("sha384", Algorithm::RS384, Algorithm::PS384, 48)),
        Sha2_512 => Some(("sha512", Algorithm::RS512, Algorithm::PS512, 64)),
        _ => None,
    }
}

#[test]
fn rsa_pkcs1_through_every_path() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let mut small_exponent = Tally::new(
        "RS* with e = 3 (host stand-in on Wycheproof's own key; jwt-guard refuses the key)",
        &["host"],
    );
    for name in [
        TestName::Rsa2048Sha256,
        TestName::Rsa2048Sha384,
        TestName::Rsa2048Sha512,
        TestName::Rsa3072Sha256,
        TestName::Rsa3072Sha384,
        TestName::Rsa3072Sha512,
        TestName::Rsa4096Sha256,
        TestName::Rsa4096Sha384,
        TestName::Rsa4096Sha512,
    ] {
        let set = TestSet::load(name).unwrap();
        let boring = StandIn::default();
        let host = host(&boring);
        let mut tally = Tally::new(format!("RS* ({name:?})"), &ALL_PATHS);
        for group in set.test_groups {
            let (hash, alg, _, _) = rsa_hash(group.hash).expect("a JWS hash");
            let doc = rsa_jwk(&group.key.n, &group.key.e, alg);
            let e: Vec<u8> = group
                .key
                .e
                .iter()
                .copied()
                .skip_while(|b| *b == 0)
                .collect();
            if e != [1, 0, 1] {
                let refused = KeySet::parse(&doc, &[alg]).expect_err("e = 3 is refused");
                assert!(
                    refused.to_string().contains("exponent"),
                    "the reason names the exponent: {refused}"
                );
                for t in &group.tests {
                    let v = Vector::new(t.tc_id, &t.msg, &t.sig, t.result, &t.flags);
                    small_exponent
                        .record(&v, &[boring::verify(hash, &group.der, &t.sig, &t.msg).0]);
                }
                continue;
            }
            let keys = parse_keys(&doc, alg);
            let key = only_key(&keys, alg);
            for t in &group.tests {
                let v = Vector::new(t.tc_id, &t.msg, &t.sig, t.result, &t.flags);
                tally.record(&v, &three_paths(&host, key, &v));
            }
        }
        let tally = tally.finish();
        assert_eq!(
            boring.calls.get(),
            tally.run,
            "every vector reached the host"
        );
    }
    small_exponent.finish();
    // 8192-bit keys are refused at parsing (jwt-simple verifies 2048 to 4096 bits).
    let set = TestSet::load(TestName::Rsa8192Sha256).unwrap();
    let group = set.test_groups.first().unwrap();
    let doc = rsa_jwk(&group.key.n, &group.key.e, Algorithm::RS256);
    let refused = KeySet::parse(&doc, &[Algorithm::RS256]).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("8192 bits (2048-4096 accepted)"),
        "{refused}"
    );
}

#[test]
fn rsa_pss_through_every_path() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    use wycheproof::Mgf;
    let boring = StandIn::default();
    let host = host(&boring);
    for name in [
        TestName::RsaPss2048Sha256Mgf1SaltLen32,
        TestName::RsaPss2048Sha384Mgf1SaltLen48,
        TestName::RsaPss3072Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha384Mgf1SaltLen48,
        TestName::RsaPss4096Sha512Mgf1SaltLen64,
        TestName::RsaPssmisc,
    ] {
        let set = TestSet::load(name).unwrap();
        let mut tally = Tally::new(format!("PS* ({name:?})"), &LOCAL_PATHS);
        for group in set.test_groups {
            // JWS's PSS (RFC 7518 §3.5): MGF1 with the message's hash, salt as long as it.
            let Some((_, _, alg, hash_len)) = rsa_hash(group.hash) else {
                continue;
            };
            if group.mgf != Mgf::Mgf1
                || group.mgf_hash != Some(group.hash)
                || group.salt_size != hash_len
                || !(2048..=4096).contains(&group.key_size)
            {
                continue;
            }
            let keys = parse_keys(&rsa_jwk(&group.key.n, &group.key.e, alg), alg);
            let key = only_key(&keys, alg);
            for t in &group.tests {
                let v = Vector::new(t.tc_id, &t.msg, &t.sig, t.result, &t.flags);
                tally.record(&v, &local_paths(&host, key, &v));
            }
        }
        tally.finish();
    }
    assert_eq!(boring.calls.get(), 0, "PS* never reaches the host");
}

#[test]
fn ed25519_through_every_path() {
    use wycheproof::eddsa::{TestName, TestSet};
    let boring = StandIn::default();
    let host = host(&boring);
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut tally = Tally::new("EdDSA (Ed25519)", &LOCAL_PATHS);
    for group in set.test_groups {
        let doc = jwks(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": b64::encode(&group.key.pk),
        }));
        let keys = parse_keys(&doc, Algorithm::EdDSA);
        let key = only_key(&keys, Algorithm::EdDSA);
        for t in &group.tests {
            let v = Vector::new(t.tc_id, &t.msg, &t.sig, t.result, &t.flags);
            tally.record(&v, &local_paths(&host, key, &v));
        }
    }
    tally.finish();
    assert_eq!(boring.calls.get(), 0, "EdDSA never reaches the host");
}

/// The jwt-simple calls above answer as the jwt-simple backend does on real tokens, for
/// every algorithm, valid and forged.
#[test]
fn jwt_simple_calls_match_the_backend() {
    use jwt_guard::signature::jwtsimple::JwtSimple;
    use jwt_guard::signature::SignatureCheck;
    use jwt_simple::prelude::*;
    let claims = || Claims::create(Duration::from_hours(1)).with_audience("api");
    let rsa = RS256KeyPair::generate(2048).unwrap();
    let der = rsa.to_der().unwrap();
    let c = rsa.public_key().to_components();
    let rsa_doc = |alg: Algorithm| rsa_jwk(&c.n, &c.e, alg);
    let es256 = ES256KeyPair::generate();
    let es384 = ES384KeyPair::generate();
    let ed = Ed25519KeyPair::generate();
    let ec_doc = |point: Vec<u8>, crv: &str, alg| ec_jwk(&point, crv, alg);
    let cases: Vec<(Algorithm, Vec<u8>, String)> = vec![
        (
            Algorithm::RS256,
            rsa_doc(Algorithm::RS256),
            rsa.sign(claims()).unwrap(),
        ),
        (
            Algorithm::RS384,
            rsa_doc(Algorithm::RS384),
            RS384KeyPair::from_der(&der)
                .unwrap()
                .sign(claims())
                .unwrap(),
        ),
        (
            Algorithm::RS512,
            rsa_doc(Algorithm::RS512),
            RS512KeyPair::from_der(&der)
                .unwrap()
                .sign(claims())
                .unwrap(),
        ),
        (
            Algorithm::PS256,
            rsa_doc(Algorithm::PS256),
            PS256KeyPair::from_der(&der)
                .unwrap()
                .sign(claims())
                .unwrap(),
        ),
        (
            Algorithm::PS384,
            rsa_doc(Algorithm::PS384),
            PS384KeyPair::from_der(&der)
                .unwrap()
                .sign(claims())
                .unwrap(),
        ),
        (
            Algorithm::PS512,
            rsa_doc(Algorithm::PS512),
            PS512KeyPair::from_der(&der)
                .unwrap()
                .sign(claims())
                .unwrap(),
        ),
        (
            Algorithm::ES256,
            ec_doc(
                es256.public_key().public_key().to_bytes_uncompressed(),
                "P-256",
                Algorithm::ES256,
            ),
            es256.sign(claims()).unwrap(),
        ),
        (
            Algorithm::ES384,
            ec_doc(
                es384.public_key().public_key().to_bytes_uncompressed(),
                "P-384",
                Algorithm::ES384,
            ),
            es384.sign(claims()).unwrap(),
        ),
        (
            Algorithm::EdDSA,
            jwks(serde_json::json!({"kty": "OKP", "crv": "Ed25519",
                "x": b64::encode(&ed.public_key().to_bytes())})),
            ed.sign(claims()).unwrap(),
        ),
    ];
    for (alg, doc, token) in cases {
        let keys = parse_keys(&doc, alg);
        let key = only_key(&keys, alg);
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut forged = b64::decode(sig.as_bytes()).unwrap();
        forged[5] ^= 0x04;
        let forged = format!("{input}.{}", b64::encode(&forged));
        for (token, valid) in [(token.as_str(), true), (forged.as_str(), false)] {
            let jws = jwt_guard::token::parse(token, 16_384).unwrap();
            let backend = JwtSimple.check(key, &jws).is_ok();
            let calls = jwt_simple(key, jws.signing_input.as_bytes(), &jws.signature);
            assert_eq!((backend, calls), (valid, valid), "{alg}");
        }
    }
}

/// The vector file the test-only Envoy module embeds (`WYCHEPROOF_WRITE=1` rewrites it).
const HOST_VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/vectors/wycheproof-host.bin"
);

fn expected(result: TestResult) -> Expected {
    match result {
        TestResult::Valid => Expected::Valid,
        TestResult::Invalid => Expected::Invalid,
        TestResult::Acceptable => Expected::Acceptable,
    }
}

/// The vectors for Envoy, from the pinned wycheproof crate: every ECDSA vector, in JWS
/// form and in DER as sent, and the RSA PKCS#1 v1.5 ones of 2048 bits (each hash; the
/// padding checks do not depend on the size), with the e = 3 groups on Wycheproof's own
/// keys. 3072 and 4096 bits run natively only, keeping the module small.
fn host_vector_file() -> Vec<u8> {
    let mut out = Vec::new();
    {
        use wycheproof::ecdsa::{TestName, TestSet};
        for (name, form, route, crv, alg) in [
            (
                TestName::EcdsaSecp256r1Sha256P1363,
                "P1363",
                Route::Jws,
                "P-256",
                Algorithm::ES256,
            ),
            (
                TestName::EcdsaSecp384r1Sha384P1363,
                "P1363",
                Route::Jws,
                "P-384",
                Algorithm::ES384,
            ),
            (
                TestName::EcdsaSecp256r1Sha256,
                "DER",
                Route::Der,
                "P-256",
                Algorithm::ES256,
            ),
            (
                TestName::EcdsaSecp384r1Sha384,
                "DER",
                Route::Der,
                "P-384",
                Algorithm::ES384,
            ),
        ] {
            for g in TestSet::load(name).unwrap().test_groups {
                let vectors: Vec<_> = g
                    .tests
                    .iter()
                    .map(|t| (t.tc_id as u32, expected(t.result), &t.msg[..], &t.sig[..]))
                    .collect();
                let doc = ec_jwk(&g.key.key, crv, alg);
                module::write_group(
                    &mut out,
                    route,
                    alg,
                    &format!("{alg} {form}"),
                    &doc,
                    &vectors,
                );
            }
        }
    }
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    for name in [
        TestName::Rsa2048Sha256,
        TestName::Rsa2048Sha384,
        TestName::Rsa2048Sha512,
    ] {
        for g in TestSet::load(name).unwrap().test_groups {
            let (_, alg, _, _) = rsa_hash(g.hash).expect("a JWS hash");
            let vectors: Vec<_> = g
                .tests
                .iter()
                .map(|t| (t.tc_id as u32, expected(t.result), &t.msg[..], &t.sig[..]))
                .collect();
            let bits = g.key_size;
            if g.key
                .e
                .iter()
                .copied()
                .skip_while(|b| *b == 0)
                .eq([1, 0, 1])
            {
                let doc = rsa_jwk(&g.key.n, &g.key.e, alg);
                module::write_group(
                    &mut out,
                    Route::Jws,
                    alg,
                    &format!("{alg} {bits}"),
                    &doc,
                    &vectors,
                );
            } else {
                let label = format!("{alg} {bits} e=3 (key refused by jwt-guard)");
                module::write_group(&mut out, Route::RawKey, alg, &label, &g.der, &vectors);
            }
        }
    }
    out
}

#[test]
fn host_vector_file_is_current() {
    let fresh = host_vector_file();
    if std::env::var_os("WYCHEPROOF_WRITE").is_some() {
        std::fs::write(HOST_VECTORS, &fresh).unwrap();
    }
    let committed = std::fs::read(HOST_VECTORS).unwrap_or_default();
    assert!(
        committed == fresh,
        "{HOST_VECTORS} is stale: WYCHEPROOF_WRITE=1 cargo test --test wycheproof"
    );
}

/// The module's runner over its vector file, with the stand-in as the host: what the
/// Envoy test must see too.
#[test]
fn host_vector_file_through_the_module_runner() {
    let boring = StandIn::default();
    let families = module::run(&std::fs::read(HOST_VECTORS).unwrap(), &boring).unwrap();
    let mut total = 0;
    for f in &families {
        println!("module runner: {f}");
        assert!(f.mismatches.is_empty(), "{f}");
        assert_eq!(f.acceptable_accepted, 0, "{f}");
        assert_eq!(f.run, f.matched + f.acceptable_refused, "{f}");
        total += f.run as usize;
    }
    let labels: Vec<&str> = families.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "ES256 P1363",
            "ES384 P1363",
            "ES256 DER",
            "ES384 DER",
            "RS256 2048",
            "RS256 2048 e=3 (key refused by jwt-guard)",
            "RS384 2048",
            "RS512 2048",
            "RS512 2048 e=3 (key refused by jwt-guard)",
        ]
    );
    // Every vector reaches the host but the JWS signatures of the wrong length.
    use wycheproof::ecdsa::{TestName, TestSet};
    let wrong_length: usize = [
        (TestName::EcdsaSecp256r1Sha256P1363, 64),
        (TestName::EcdsaSecp384r1Sha384P1363, 96),
    ]
    .into_iter()
    .flat_map(|(name, len)| {
        let set = TestSet::load(name).unwrap();
        set.test_groups
            .into_iter()
            .flat_map(|g| g.tests)
            .map(move |t| usize::from(t.sig.len() != len))
    })
    .sum();
    assert_eq!(boring.calls.get(), total - wrong_length);
}
