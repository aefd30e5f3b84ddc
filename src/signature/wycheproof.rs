//! Project Wycheproof's vectors for the algorithms the host verifies (ES256, ES384,
//! RS256/384/512), run through a [`Transport`] exactly as tokens are: the key parsed from
//! a JWKS, its DER SubjectPublicKeyInfo, R‖S → DER, the `verify_signature` arguments.
//! The vectors come as a compact file written by the native Wycheproof test
//! (`tests/wycheproof.rs`, which also runs it against a stand-in for the host); the
//! test-only `wycheproof` cargo feature embeds it and runs it in Envoy at start-up.

use super::boringssl::{
    host_form, HostSignature, Transport, VerifySignatureArguments, VerifySignatureResult,
};
use crate::alg::Algorithm;
use crate::jwks::KeySet;
use prost::Message;
use std::fmt;
use thiserror::Error;

/// The vectors the test-only module runs in Envoy.
#[cfg(feature = "wycheproof")]
pub const VECTORS: &[u8] = include_bytes!("../vectors/wycheproof-host.bin");

/// How the vectors of one group reach the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// As a token's signature: the JWKS key, then [`HostSignature::check_message`].
    Jws = 0,
    /// A DER signature sent as it is, with the JWKS key's SubjectPublicKeyInfo: what the
    /// host itself accepts as DER.
    Der = 1,
    /// A key jwt-guard refuses (its document is Wycheproof's own SubjectPublicKeyInfo),
    /// sent as it is: what the host would do with it.
    RawKey = 2,
}

/// What Wycheproof expects of a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Invalid = 0,
    Valid = 1,
    /// Either answer is allowed; jwt-guard's is recorded.
    Acceptable = 2,
}

/// Why the vector file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VectorError {
    /// Cut short or malformed at this byte offset.
    #[error("vector file malformed at byte {0}")]
    Malformed(usize),
    /// A group's key did not parse.
    #[error("{0}: key unusable")]
    Key(String),
}

/// The results of one family of vectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Family {
    /// What the vectors are, e.g. `ES256 P1363`.
    pub label: String,
    /// Vectors run.
    pub run: u32,
    /// Valid vectors verified and invalid ones refused.
    pub matched: u32,
    /// `acceptable` vectors verified.
    pub acceptable_accepted: u32,
    /// `acceptable` vectors refused.
    pub acceptable_refused: u32,
    /// Wycheproof test ids of valid vectors refused or invalid ones verified.
    pub mismatches: Vec<u32>,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: run {}, matched {}, mismatched {} {:?}, acceptable accepted {}, acceptable refused {}",
            self.label,
            self.run,
            self.matched,
            self.mismatches.len(),
            self.mismatches,
            self.acceptable_accepted,
            self.acceptable_refused
        )
    }
}

/// A cursor over the vector file: `u8`s, little-endian `u32`s, and byte strings
/// prefixed with their `u32` length.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], VectorError> {
        let bytes = self
            .data
            .get(self.at..self.at.saturating_add(n))
            .ok_or(VectorError::Malformed(self.at))?;
        self.at += n;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, VectorError> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }

    fn u32(&mut self) -> Result<u32, VectorError> {
        let at = self.at;
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes(
            bytes.try_into().map_err(|_| VectorError::Malformed(at))?,
        ))
    }

    fn bytes(&mut self) -> Result<&'a [u8], VectorError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn text(&mut self) -> Result<&'a str, VectorError> {
        let at = self.at;
        std::str::from_utf8(self.bytes()?).map_err(|_| VectorError::Malformed(at))
    }
}

/// Appends one group to a vector file: its route, algorithm, family label, key document
/// (a JWKS, or for [`Route::RawKey`] a DER SubjectPublicKeyInfo) and vectors
/// `(tc id, expected, message, signature)`.
pub fn write_group(
    out: &mut Vec<u8>,
    route: Route,
    alg: Algorithm,
    label: &str,
    doc: &[u8],
    vectors: &[(u32, Expected, &[u8], &[u8])],
) {
    let bytes = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    };
    out.push(route as u8);
    bytes(out, alg.name().as_bytes());
    bytes(out, label.as_bytes());
    bytes(out, doc);
    out.extend_from_slice(&(vectors.len() as u32).to_le_bytes());
    for (id, expected, message, signature) in vectors {
        out.extend_from_slice(&id.to_le_bytes());
        out.push(*expected as u8);
        bytes(out, message);
        bytes(out, signature);
    }
}

/// Sends `arguments` to the host; whether it verified.
fn ask(transport: &dyn Transport, arguments: VerifySignatureArguments) -> bool {
    transport
        .call(&arguments.encode_to_vec())
        .ok()
        .and_then(|answer| VerifySignatureResult::decode(answer.as_slice()).ok())
        .is_some_and(|r| r.result)
}

/// Runs every vector of `file` through `transport`; the results by family, in the
/// order the file first names them.
pub fn run(file: &[u8], transport: &dyn Transport) -> Result<Vec<Family>, VectorError> {
    let host = HostSignature::new(transport, true);
    let mut families: Vec<Family> = Vec::new();
    let mut r = Reader { data: file, at: 0 };
    while r.at < file.len() {
        let at = r.at;
        let route = match r.u8()? {
            0 => Route::Jws,
            1 => Route::Der,
            2 => Route::RawKey,
            _ => return Err(VectorError::Malformed(at)),
        };
        let alg = Algorithm::parse(r.text()?).ok_or(VectorError::Malformed(at))?;
        let (hash, _) = host_form(alg).ok_or(VectorError::Malformed(at))?;
        let label = r.text()?;
        let doc = r.bytes()?;
        let keys = match route {
            Route::RawKey => None,
            Route::Jws | Route::Der => Some(
                KeySet::parse(doc, &[alg])
                    .map_err(|e| VectorError::Key(format!("{label}: {e}")))?,
            ),
        };
        let key = keys.as_ref().and_then(|k| k.candidates(None, alg).next());
        let spki = match route {
            Route::RawKey => Some(doc),
            Route::Jws | Route::Der => key.and_then(|k| k.spki.as_deref()),
        }
        .ok_or_else(|| VectorError::Key(label.to_string()))?;
        let index = match families.iter().position(|f| f.label == label) {
            Some(i) => i,
            None => {
                families.push(Family {
                    label: label.to_string(),
                    ..Family::default()
                });
                families.len() - 1
            }
        };
        for _ in 0..r.u32()? {
            let (id, at) = (r.u32()?, r.at);
            let expected = match r.u8()? {
                0 => Expected::Invalid,
                1 => Expected::Valid,
                2 => Expected::Acceptable,
                _ => return Err(VectorError::Malformed(at)),
            };
            let (message, signature) = (r.bytes()?, r.bytes()?);
            let verified = match (route, key) {
                (Route::Jws, Some(key)) => host.check_message(key, signature, message).is_ok(),
                _ => ask(
                    transport,
                    VerifySignatureArguments {
                        hash_function: hash.to_string(),
                        public_key: spki.to_vec(),
                        signature: signature.to_vec(),
                        text: message.to_vec(),
                    },
                ),
            };
            let Some(family) = families.get_mut(index) else {
                return Err(VectorError::Malformed(at));
            };
            family.run += 1;
            match (expected, verified) {
                (Expected::Valid, true) | (Expected::Invalid, false) => family.matched += 1,
                (Expected::Acceptable, true) => family.acceptable_accepted += 1,
                (Expected::Acceptable, false) => family.acceptable_refused += 1,
                _ => family.mismatches.push(id),
            }
        }
    }
    Ok(families)
}
