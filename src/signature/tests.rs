use super::backend::{Backend, BackendError};
use super::boringssl::*;
use super::both::Both;
use super::jwtsimple::JwtSimple;
use super::selftest::{self_test, SelfTestError, Vector};
use super::{der, SignatureCheck};
use crate::config::SignatureBackend;
use crate::jwks::KeySet;
use crate::token;
use jwt_simple::prelude::*;
use prost::Message;
use std::cell::RefCell;

/// A transport that answers like Envoy's BoringSSL would, with independent crypto (the
/// RustCrypto p256/p384 crates for ECDSA over DER signatures, jwt-simple for RSA), and
/// records what it was sent.
struct Boring {
    seen: RefCell<Vec<VerifySignatureArguments>>,
}

fn boring_verify(args: &VerifySignatureArguments) -> bool {
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    let text = args.text.as_slice();
    if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(&args.public_key) {
        let Ok(sig) = p256::ecdsa::Signature::from_der(&args.signature) else {
            return false;
        };
        return args.hash_function == "sha256" && key.verify(text, &sig).is_ok();
    }
    if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_der(&args.public_key) {
        let Ok(sig) = p384::ecdsa::Signature::from_der(&args.signature) else {
            return false;
        };
        return args.hash_function == "sha384" && key.verify(text, &sig).is_ok();
    }
    let Ok(key) = RS256PublicKey::from_der(&args.public_key) else {
        return false;
    };
    let token = format!(
        "{}.{}",
        std::str::from_utf8(text).unwrap(),
        crate::b64::encode(&args.signature)
    );
    let options = VerificationOptions {
        artificial_time: Some(UnixTimeStamp::from_secs(0)),
        accept_future: true,
        time_tolerance: Some(Duration::from_secs(0)),
        ..Default::default()
    };
    let verified = key.verify_token::<NoCustomClaims>(&token, Some(options));
    args.hash_function == "sha256" && verified.is_ok()
}

impl Transport for Boring {
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, TransportError> {
        let args =
            VerifySignatureArguments::decode(arguments).map_err(|_| TransportError::Empty)?;
        self.seen.borrow_mut().push(args.clone());
        Ok(reply(boring_verify(&args)))
    }
}

/// A transport with a canned answer.
struct Canned(fn(&VerifySignatureArguments) -> Result<Vec<u8>, TransportError>);

impl Transport for Canned {
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, TransportError> {
        let args =
            VerifySignatureArguments::decode(arguments).map_err(|_| TransportError::Empty)?;
        (self.0)(&args)
    }
}

fn reply(ok: bool) -> Vec<u8> {
    VerifySignatureResult {
        result: ok,
        error: String::new(),
    }
    .encode_to_vec()
}

fn boring() -> HostSignature<Boring> {
    HostSignature::new(
        Boring {
            seen: RefCell::new(vec![]),
        },
        true,
    )
}

#[test]
fn rsa_goes_to_the_host_as_is() {
    let host = boring();
    assert_eq!(self_test(&host, Vector::Rsa), Ok(()));
    let seen = host.transport.seen.borrow();
    let first = &seen[0];
    assert_eq!(first.hash_function, "sha256");
    assert_eq!(first.signature.len(), 256);
    assert!(include_str!("../vectors/selftest.jwt")
        .starts_with(std::str::from_utf8(&first.text).unwrap()));
    // DER SubjectPublicKeyInfo: a SEQUENCE holding the rsaEncryption OID.
    assert_eq!(first.public_key[0], 0x30);
    let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    assert!(first.public_key.windows(oid.len()).any(|w| w == oid));
}

#[test]
fn es256_goes_to_the_host_as_der_with_an_ec_spki() {
    let host = boring();
    assert_eq!(self_test(&host, Vector::Ec), Ok(()));
    let seen = host.transport.seen.borrow();
    assert_eq!(
        seen.len(),
        2,
        "the valid and the forged token both reach the host"
    );
    let first = &seen[0];
    assert_eq!(first.hash_function, "sha256");
    assert_eq!(first.signature[0], 0x30, "DER ECDSA-Sig-Value");
    let ec_public_key = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    assert!(first.public_key.windows(7).any(|w| w == ec_public_key));
}

#[test]
fn ecdsa_stays_on_jwt_simple_unless_its_self_test_passed() {
    let host = HostSignature::new(Canned(|_| Ok(reply(true))), false);
    assert_eq!(
        self_test(&host, Vector::Ec),
        Ok(()),
        "jwt-simple refuses the forged one"
    );
    assert_eq!(
        self_test(&host, Vector::Rsa),
        Err(SelfTestError::AcceptedForged(Vector::Rsa))
    );
}

#[test]
fn self_test_passes_only_for_a_correct_backend() {
    for vector in [Vector::Rsa, Vector::Ec] {
        assert_eq!(self_test(&JwtSimple, vector), Ok(()));
        assert_eq!(self_test(&boring(), vector), Ok(()));
        let refuse = HostSignature::new(Canned(|_| Ok(reply(false))), true);
        assert_eq!(
            self_test(&refuse, vector),
            Err(SelfTestError::RefusedValid(vector))
        );
        let missing = HostSignature::new(Canned(|_| Err(TransportError::Host(1))), true);
        assert!(self_test(&missing, vector).is_err());
        let garbage = HostSignature::new(Canned(|_| Ok(b"\xff\xff".to_vec())), true);
        assert!(self_test(&garbage, vector).is_err());
    }
}

#[test]
fn backend_selection_follows_the_self_tests() {
    let boxed = |t: Box<dyn Transport>| t;
    let good = || boxed(Box::new(boring().transport));
    // RSA works, ECDSA is refused: the host keeps RS*, jwt-simple takes ES*.
    let rsa_only = || {
        boxed(Box::new(Canned(|a| {
            Ok(reply(
                a.hash_function == "sha256" && a.signature.len() == 256 && boring_verify(a),
            ))
        })))
    };
    let pick = |wanted, t| Backend::select(wanted, t).map(|b| b.name());
    assert_eq!(
        pick(SignatureBackend::Auto, good()),
        Ok("host (BoringSSL) for RS*/ES256/ES384, jwt-simple otherwise")
    );
    assert_eq!(
        pick(SignatureBackend::Auto, rsa_only()),
        Ok("host (BoringSSL) for RS*, jwt-simple otherwise")
    );
    assert_eq!(
        pick(SignatureBackend::Host, rsa_only()),
        Err(BackendError::SelfTest(SelfTestError::RefusedValid(
            Vector::Ec
        )))
    );
    assert_eq!(
        pick(SignatureBackend::Both, good()),
        Ok("both (differential)")
    );
    let dead = || boxed(Box::new(Canned(|_| Err(TransportError::Host(1)))));
    assert_eq!(pick(SignatureBackend::Auto, dead()), Ok("jwt-simple"));
    assert!(pick(SignatureBackend::Both, dead()).is_err());
    assert_eq!(pick(SignatureBackend::JwtSimple, dead()), Ok("jwt-simple"));
}

#[test]
fn both_counts_disagreements_and_refuses_them() {
    let both = Both::new(
        JwtSimple,
        HostSignature::new(Canned(|_| Ok(reply(true))), true),
    );
    // The forged token is refused because the backends disagree on it.
    assert_eq!(self_test(&both, Vector::Rsa), Ok(()));
    assert_eq!(both.take_disagreements(), 1);
    assert_eq!(both.take_disagreements(), 0);
    let agree = Both::new(JwtSimple, boring());
    assert_eq!(self_test(&agree, Vector::Ec), Ok(()));
    assert_eq!(agree.take_disagreements(), 0);
}

/// `n - x` for big-endian numbers of equal length (x < n).
fn sub(n: &[u8], x: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; n.len()];
    let mut borrow = 0i16;
    for i in (0..n.len()).rev() {
        let mut d = i16::from(n[i]) - i16::from(x[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap(), 16).unwrap())
        .collect()
}

/// The dangerous ECDSA inputs of one curve, from a valid token: each with whether a
/// correct verifier must accept it.
fn dangerous(token: &str, n: &[u8]) -> Vec<(&'static str, String, bool)> {
    let (input, sig) = token.rsplit_once('.').unwrap();
    let rs = crate::b64::decode(sig.as_bytes()).unwrap();
    let half = rs.len() / 2;
    let (r, s) = rs.split_at(half);
    let with = |sig: &[u8]| format!("{input}.{}", crate::b64::encode(sig));
    let zero = vec![0u8; half];
    let der = der::ecdsa_signature(&rs, half).unwrap();
    let mut r_plus_n = r.to_vec();
    r_plus_n[half - 1] = r_plus_n[half - 1].wrapping_add(1);
    vec![
        ("valid", token.to_string(), true),
        // s and n - s are both valid ECDSA signatures; JWS does not require low S.
        ("high-or-low-s twin", with(&[r, &sub(n, s)].concat()), true),
        ("r = 0", with(&[&zero, s].concat()), false),
        ("s = 0", with(&[r, &zero].concat()), false),
        (
            "r = s = 0",
            with(&[zero.clone(), zero.clone()].concat()),
            false,
        ),
        ("r = n", with(&[n, s].concat()), false),
        ("s = n", with(&[r, n].concat()), false),
        (
            "r = all ones",
            with(&[vec![0xff; half].as_slice(), s].concat()),
            false,
        ),
        ("r + 1", with(&[&r_plus_n, s].concat()), false),
        ("DER as the JWS signature", with(&der), false),
        ("one byte short", with(&rs[..rs.len() - 1]), false),
        (
            "one byte long",
            with(&[rs.as_slice(), &[0]].concat()),
            false,
        ),
        (
            "other curve's length",
            with(&[rs.as_slice(), &rs[..half]].concat()),
            false,
        ),
    ]
}

#[test]
fn dangerous_ecdsa_inputs_get_the_same_verdict_from_both_backends() {
    let p256 = ES256KeyPair::generate().with_key_id("e1");
    let p384 = ES384KeyPair::generate().with_key_id("e2");
    let jwk = |crv: &str, kid: &str, point: Vec<u8>| {
        let (x, y) = point[1..].split_at((point.len() - 1) / 2);
        format!(
            r#"{{"kty":"EC","crv":"{crv}","kid":"{kid}","x":"{}","y":"{}"}}"#,
            crate::b64::encode(x),
            crate::b64::encode(y)
        )
    };
    let set = crate::testkeys::jwks(&[
        jwk(
            "P-256",
            "e1",
            p256.public_key().public_key().to_bytes_uncompressed(),
        ),
        jwk(
            "P-384",
            "e2",
            p384.public_key().public_key().to_bytes_uncompressed(),
        ),
    ]);
    let keys = KeySet::parse(set.as_bytes(), &crate::alg::Algorithm::ALL).unwrap();
    let claims = || Claims::create(Duration::from_secs(60));
    let tokens = [
        (p256.sign(claims()).unwrap(), hex(P256_N)),
        (p384.sign(claims()).unwrap(), hex(P384_N)),
    ];
    let both = Both::new(JwtSimple, boring());
    for (token, n) in &tokens {
        for (case, text, ok) in dangerous(token, n) {
            let jws = token::parse(&text, 8192).unwrap();
            let key = keys.candidates(jws.kid.as_deref(), jws.alg).next().unwrap();
            assert_eq!(
                JwtSimple.check(key, &jws).is_ok(),
                ok,
                "jwt-simple, {} {case}",
                key.alg
            );
            assert_eq!(
                boring().check(key, &jws).is_ok(),
                ok,
                "host, {} {case}",
                key.alg
            );
            assert_eq!(
                both.check(key, &jws).is_ok(),
                ok,
                "both, {} {case}",
                key.alg
            );
        }
    }
    assert_eq!(both.take_disagreements(), 0);
}

#[test]
fn arguments_encode_as_the_derived_message_does() {
    use super::boringssl::encode_arguments;
    let long = vec![7u8; 300];
    for (hash, key, sig, text) in [
        ("sha256", &b"spki"[..], &b"sig"[..], &b"a.b"[..]),
        ("sha384", &long[..], &long[..2], &long[..200]),
        ("sha512", &b""[..], &b"s"[..], &b""[..]),
        ("", &b""[..], &b""[..], &b""[..]),
    ] {
        let owned = VerifySignatureArguments {
            hash_function: hash.to_string(),
            public_key: key.to_vec(),
            signature: sig.to_vec(),
            text: text.to_vec(),
        };
        assert_eq!(
            encode_arguments(hash, key, sig, text),
            owned.encode_to_vec()
        );
    }
}
