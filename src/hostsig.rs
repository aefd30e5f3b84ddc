//! Signature checks through Envoy's BoringSSL: the `verify_signature` foreign function
//! (Envoy `source/extensions/common/wasm/ext/verify_signature.proto`). It verifies PKCS#1
//! v1.5 signatures, so it serves RS256/384/512; every other algorithm goes to jwt-simple.
//! The transport (the actual host call) is injected, keeping this module host-free.

use crate::alg::Algorithm;
use crate::jwks::{Key, KeySet};
use crate::reject::TokenError;
use crate::token::{self, Jws};
use crate::verify::{JwtSimple, SignatureCheck};
use prost::Message;
use std::cell::Cell;

/// `VerifySignatureArguments`.
#[derive(Clone, PartialEq, Message)]
pub struct VerifySignatureArguments {
    #[prost(string, tag = "1")]
    pub hash_function: String,
    #[prost(bytes = "vec", tag = "2")]
    pub public_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub signature: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub text: Vec<u8>,
}

/// `VerifySignatureResult`.
#[derive(Clone, PartialEq, Message)]
pub struct VerifySignatureResult {
    #[prost(bool, tag = "1")]
    pub result: bool,
    #[prost(string, tag = "2")]
    pub error: String,
}

/// The foreign function's name in Envoy.
pub const FOREIGN_FUNCTION: &str = "verify_signature";

/// Calls the host with encoded arguments and returns the encoded result.
pub trait Transport {
    /// One call of `verify_signature`.
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, String>;
}

/// The digest the host must use for an RSA PKCS#1 v1.5 algorithm.
fn host_hash(alg: Algorithm) -> Option<&'static str> {
    match alg {
        Algorithm::RS256 => Some("sha256"),
        Algorithm::RS384 => Some("sha384"),
        Algorithm::RS512 => Some("sha512"),
        _ => None,
    }
}

/// Verifies RS* signatures on the host, everything else with jwt-simple.
pub struct HostSignature<T: Transport> {
    transport: T,
}

impl<T: Transport> HostSignature<T> {
    /// A backend calling the host through `transport`.
    pub fn new(transport: T) -> Self {
        HostSignature { transport }
    }
}

impl<T: Transport> SignatureCheck for HostSignature<T> {
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError> {
        let (Some(hash), Some(spki)) = (host_hash(key.alg), key.spki.as_deref()) else {
            return JwtSimple.check(key, jws);
        };
        let args = VerifySignatureArguments {
            hash_function: hash.to_string(),
            public_key: spki.to_vec(),
            signature: jws.signature.clone(),
            text: jws.signing_input.as_bytes().to_vec(),
        };
        let answer = self
            .transport
            .call(&args.encode_to_vec())
            .map_err(|_| TokenError::Signature)?;
        match VerifySignatureResult::decode(answer.as_slice()) {
            Ok(VerifySignatureResult { result: true, .. }) => Ok(()),
            _ => Err(TokenError::Signature),
        }
    }
}

/// Checks with two backends and accepts only when both accept; counts disagreements.
pub struct Both<A, B> {
    reference: A,
    other: B,
    disagreements: Cell<u64>,
}

impl<A: SignatureCheck, B: SignatureCheck> Both<A, B> {
    /// Differential checking of `other` against `reference`.
    pub fn new(reference: A, other: B) -> Self {
        Both {
            reference,
            other,
            disagreements: Cell::new(0),
        }
    }

    /// Disagreements counted since the last call.
    pub fn take_disagreements(&self) -> u64 {
        self.disagreements.take()
    }
}

impl<A: SignatureCheck, B: SignatureCheck> SignatureCheck for Both<A, B> {
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError> {
        let a = self.reference.check(key, jws);
        let b = self.other.check(key, jws);
        if a.is_ok() != b.is_ok() {
            self.disagreements
                .set(self.disagreements.get().saturating_add(1));
            log::warn!(
                "signature backends disagree on a {} token (kid {:?})",
                key.alg,
                key.kid
            );
            return Err(TokenError::Signature);
        }
        a.and(b)
    }
}

/// Whether `backend` accepts a known-good RS256 token and refuses the same token with one
/// signature bit flipped: the start-up check before trusting the host.
pub fn self_test(backend: &dyn SignatureCheck) -> Result<(), String> {
    let keys = KeySet::parse(
        include_bytes!("vectors/selftest.jwks.json"),
        &[Algorithm::RS256],
    )
    .map_err(|e| format!("self-test key: {e}"))?;
    let good = include_str!("vectors/selftest.jwt").trim();
    let jws = token::parse(good, 8192).map_err(|e| format!("self-test token: {e:?}"))?;
    let kid = jws.kid.clone();
    let key = keys
        .candidates(kid.as_deref(), jws.alg)
        .next()
        .ok_or("self-test key missing")?;
    backend
        .check(key, &jws)
        .map_err(|_| "refused a valid signature".to_string())?;
    let mut forged_sig = jws.signature.clone();
    if let Some(byte) = forged_sig.get_mut(7) {
        *byte ^= 0x10;
    }
    let forged = format!("{}.{}", jws.signing_input, crate::b64::encode(&forged_sig));
    let bad = token::parse(&forged, 8192).map_err(|e| format!("self-test token: {e:?}"))?;
    match backend.check(key, &bad) {
        Ok(()) => Err("accepted a forged signature".into()),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A transport that answers like Envoy would, using jwt-simple as the crypto, and
    /// records what it was sent.
    struct Fake {
        answer: fn(&VerifySignatureArguments) -> Result<Vec<u8>, String>,
        seen: RefCell<Vec<VerifySignatureArguments>>,
    }

    impl Transport for Fake {
        fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, String> {
            let args = VerifySignatureArguments::decode(arguments).map_err(|e| e.to_string())?;
            self.seen.borrow_mut().push(args.clone());
            (self.answer)(&args)
        }
    }

    fn reply(ok: bool) -> Vec<u8> {
        VerifySignatureResult {
            result: ok,
            error: String::new(),
        }
        .encode_to_vec()
    }

    fn fake(
        answer: fn(&VerifySignatureArguments) -> Result<Vec<u8>, String>,
    ) -> HostSignature<Fake> {
        HostSignature::new(Fake {
            answer,
            seen: RefCell::new(vec![]),
        })
    }

    #[test]
    fn sends_the_signing_input_key_and_hash() {
        let host = fake(|_| Ok(reply(true)));
        assert_eq!(self_test(&host), Err("accepted a forged signature".into()));
        let seen = host.transport.seen.borrow();
        let first = &seen[0];
        assert_eq!(first.hash_function, "sha256");
        assert_eq!(first.signature.len(), 256);
        assert!(include_str!("vectors/selftest.jwt")
            .starts_with(std::str::from_utf8(&first.text).unwrap()));
        // DER SubjectPublicKeyInfo: a SEQUENCE holding the rsaEncryption OID.
        assert_eq!(first.public_key[0], 0x30);
        let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        assert!(first.public_key.windows(oid.len()).any(|w| w == oid));
    }

    #[test]
    fn self_test_passes_only_for_a_correct_backend() {
        assert_eq!(self_test(&JwtSimple), Ok(()));
        assert!(self_test(&fake(|_| Ok(reply(false)))).is_err());
        assert!(self_test(&fake(|_| Err("NotFound".into()))).is_err());
        assert!(self_test(&fake(|_| Ok(b"\xff\xff".to_vec()))).is_err());
    }

    #[test]
    fn both_counts_disagreements_and_refuses_them() {
        let both = Both::new(JwtSimple, fake(|_| Ok(reply(true))));
        // The forged token is refused because the backends disagree on it.
        assert_eq!(self_test(&both), Ok(()));
        assert_eq!(both.take_disagreements(), 1);
        assert_eq!(both.take_disagreements(), 0);
        let agree = Both::new(JwtSimple, JwtSimple);
        assert_eq!(self_test(&agree), Ok(()));
        assert_eq!(agree.take_disagreements(), 0);
    }
}
