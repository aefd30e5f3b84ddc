//! Signature checks through Envoy's BoringSSL: the `verify_signature` foreign function
//! (Envoy `source/extensions/common/wasm/ext/verify_signature.proto`). It verifies RSA
//! PKCS#1 v1.5 (RS256/384/512) and, with the JWS `R‖S` signature converted to DER, ECDSA
//! (ES256/ES384); every other algorithm goes to jwt-simple. The transport (the actual
//! host call) is injected, keeping this module host-free.

use super::der;
use super::jwtsimple::JwtSimple;
use super::SignatureCheck;
use crate::alg::Algorithm;
use crate::jwks::Key;
use crate::token::Jws;
use crate::token::TokenError;
use prost::Message;
use thiserror::Error;

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

/// Why a call of the foreign function brought no answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    /// The host refused the call (proxy-wasm status code; 1 = not found).
    #[error("host call failed with status {0}")]
    Host(u32),
    /// The host answered nothing.
    #[error("empty answer")]
    Empty,
}

/// Calls the host with encoded arguments and returns the encoded result.
pub trait Transport {
    /// One call of `verify_signature`.
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).call(arguments)
    }
}

impl<T: Transport + ?Sized> Transport for &T {
    fn call(&self, arguments: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).call(arguments)
    }
}

/// `VerifySignatureArguments` encoded straight from borrowed parts into one buffer, as
/// [`VerifySignatureArguments::encode_to_vec`] would encode an owned copy of them.
pub(super) fn encode_arguments(
    hash: &str,
    public_key: &[u8],
    signature: &[u8],
    text: &[u8],
) -> Vec<u8> {
    use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};
    let fields: [(u32, &[u8]); 4] = [
        (1, hash.as_bytes()),
        (2, public_key),
        (3, signature),
        (4, text),
    ];
    let len = fields
        .iter()
        .map(|(tag, v)| key_len(*tag) + encoded_len_varint(v.len() as u64) + v.len())
        .sum();
    let mut out = Vec::with_capacity(len);
    // proto3 leaves empty fields out, as the derived encoder does.
    for (tag, value) in fields.into_iter().filter(|(_, v)| !v.is_empty()) {
        encode_key(tag, WireType::LengthDelimited, &mut out);
        encode_varint(value.len() as u64, &mut out);
        out.extend_from_slice(value);
    }
    out
}

/// How the host must check one algorithm: its digest and, for ECDSA, the byte length of
/// each of R and S in the JWS signature.
pub(super) fn host_form(alg: Algorithm) -> Option<(&'static str, Option<usize>)> {
    match alg {
        Algorithm::RS256 => Some(("sha256", None)),
        Algorithm::RS384 => Some(("sha384", None)),
        Algorithm::RS512 => Some(("sha512", None)),
        Algorithm::ES256 => Some(("sha256", Some(32))),
        Algorithm::ES384 => Some(("sha384", Some(48))),
        _ => None,
    }
}

/// Verifies RS* (and ES* when `ecdsa`) signatures on the host, everything else with
/// jwt-simple.
pub struct HostSignature<T: Transport> {
    pub(super) transport: T,
    ecdsa: bool,
}

impl<T: Transport> HostSignature<T> {
    /// A backend calling the host through `transport`; ES256/ES384 go to the host only
    /// when `ecdsa` (its EC self-test passed).
    pub fn new(transport: T, ecdsa: bool) -> Self {
        HostSignature { transport, ecdsa }
    }

    /// Whether ES256/ES384 are checked on the host.
    pub fn ecdsa(&self) -> bool {
        self.ecdsa
    }

    /// Whether the host checks `key`'s signatures: RS*, and ES256/ES384 when `ecdsa`,
    /// for a key with a DER SubjectPublicKeyInfo. Every other key goes to jwt-simple.
    pub fn serves(&self, key: &Key) -> bool {
        key.spki.is_some()
            && host_form(key.alg).is_some_and(|(_, half)| half.is_none() || self.ecdsa)
    }

    /// Checks `signature`, as a JWS carries it, over `text` on the host; fails for a key
    /// the host does not [serve](Self::serves).
    pub fn check_message(
        &self,
        key: &Key,
        signature: &[u8],
        text: &[u8],
    ) -> Result<(), TokenError> {
        // The DER SubjectPublicKeyInfo the host imports, computed once per key at parsing.
        let (Some((hash, half)), Some(public_key)) = (
            host_form(key.alg).filter(|_| self.serves(key)),
            key.spki.as_deref(),
        ) else {
            return Err(TokenError::Signature);
        };
        let der;
        let signature = match half {
            // A JWS ECDSA signature is exactly R‖S; anything else (DER, short) fails here.
            Some(n) => {
                der = der::ecdsa_signature(signature, n).ok_or(TokenError::Signature)?;
                der.as_slice()
            }
            None => signature,
        };
        let arguments = encode_arguments(hash, public_key, signature, text);
        let answer = self
            .transport
            .call(&arguments)
            .map_err(|_| TokenError::Signature)?;
        match VerifySignatureResult::decode(answer.as_slice()) {
            Ok(VerifySignatureResult { result: true, .. }) => Ok(()),
            _ => Err(TokenError::Signature),
        }
    }
}

impl<T: Transport> SignatureCheck for HostSignature<T> {
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError> {
        if !self.serves(key) {
            return JwtSimple.check(key, jws);
        }
        self.check_message(key, &jws.signature, jws.signing_input.as_bytes())
    }
}
