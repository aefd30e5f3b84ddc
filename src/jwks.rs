//! JWKS documents (RFC 7517) parsed into usable verification keys. Keys that cannot be
//! used (unknown type, weak RSA, point off the curve, ambiguous `kid`, encryption keys)
//! are skipped with a reason; a document with no usable key at all is an error.

use crate::alg::{Algorithm, KeyFamily};
use crate::{b64, json};
use jwt_simple::prelude::{
    ES256PublicKey, ES384PublicKey, Ed25519PublicKey, PS256PublicKey, PS384PublicKey,
    PS512PublicKey, RS256PublicKey, RS384PublicKey, RS512PublicKey,
};
use serde::Deserialize;
use std::fmt;

/// Largest JWKS document accepted, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Most keys read from one document.
pub const MAX_KEYS: usize = 64;
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;
const MAX_KID_LEN: usize = 256;

/// A verification key bound to exactly one algorithm.
pub struct Key {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub material: Material,
    /// DER SubjectPublicKeyInfo, for RSA keys (what Envoy's BoringSSL imports).
    pub spki: Option<Vec<u8>>,
}

/// The typed public key, one variant per algorithm.
pub enum Material {
    RS256(RS256PublicKey),
    RS384(RS384PublicKey),
    RS512(RS512PublicKey),
    PS256(PS256PublicKey),
    PS384(PS384PublicKey),
    PS512(PS512PublicKey),
    ES256(ES256PublicKey),
    ES384(ES384PublicKey),
    EdDSA(Ed25519PublicKey),
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?}, {})", self.kid, self.alg)
    }
}

/// The usable keys of one JWKS document.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
    jwk_count: usize,
    skipped: Vec<String>,
}

/// Why a whole JWKS document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksError(pub String);

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl KeySet {
    /// Parses a JWKS document, keeping keys usable with one of `allowed` algorithms.
    pub fn parse(body: &[u8], allowed: &[Algorithm]) -> Result<KeySet, JwksError> {
        if body.len() > MAX_JWKS_BYTES {
            return Err(JwksError(format!(
                "JWKS larger than {MAX_JWKS_BYTES} bytes"
            )));
        }
        let doc = json::parse_object(body).map_err(|e| JwksError(format!("JWKS: {e}")))?;
        let Some(serde_json::Value::Array(entries)) = doc.get("keys") else {
            return Err(JwksError("JWKS: \"keys\" must be an array".into()));
        };
        let mut set = KeySet::default();
        if entries.len() > MAX_KEYS {
            set.skipped.push(format!(
                "{} keys beyond the first {MAX_KEYS}",
                entries.len() - MAX_KEYS
            ));
        }
        let mut parsed: Vec<(Option<String>, KeyFamily, Vec<Key>)> = Vec::new();
        for (i, entry) in entries.iter().take(MAX_KEYS).enumerate() {
            match serde_json::from_value::<RawJwk>(entry.clone()) {
                Ok(raw) => match usable_keys(&raw, allowed) {
                    Ok((family, keys)) => parsed.push((raw.kid, family, keys)),
                    Err(why) => set.skipped.push(format!("key {i} ({:?}): {why}", raw.kid)),
                },
                Err(e) => set.skipped.push(format!("key {i}: {e}")),
            }
        }
        // Two keys of one family under one `kid` are ambiguous: neither is trusted.
        let is_twin = |kid: &Option<String>, family: KeyFamily| {
            kid.is_some()
                && parsed
                    .iter()
                    .filter(|(k, f, _)| k == kid && *f == family)
                    .count()
                    > 1
        };
        let ambiguous: Vec<bool> = parsed.iter().map(|(k, f, _)| is_twin(k, *f)).collect();
        for ((kid, _, keys), twin) in parsed.into_iter().zip(ambiguous) {
            if twin {
                set.skipped
                    .push(format!("kid {kid:?} appears more than once"));
            } else {
                set.jwk_count += 1;
                set.keys.extend(keys);
            }
        }
        if set.keys.is_empty() {
            let why = if set.skipped.is_empty() {
                "no keys".to_string()
            } else {
                set.skipped.join("; ")
            };
            return Err(JwksError(format!("JWKS has no usable key: {why}")));
        }
        Ok(set)
    }

    /// The keys that may verify a token with this `kid` and `alg`.
    pub fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a Key> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.alg == alg && (kid.is_none() || k.kid.as_deref() == kid))
    }

    /// Whether any key carries this `kid`, whatever its algorithm.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Number of usable JWKs in the set.
    pub fn len(&self) -> usize {
        self.jwk_count
    }

    /// The distinct `kid`s of the set, for the logs.
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        kids.dedup();
        kids
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// What was skipped and why, for the logs.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

fn usable_keys(raw: &RawJwk, allowed: &[Algorithm]) -> Result<(KeyFamily, Vec<Key>), String> {
    if let Some(kid) = &raw.kid {
        if kid.len() > MAX_KID_LEN {
            return Err("kid too long".into());
        }
    }
    if let Some(u) = &raw.use_ {
        if u != "sig" {
            return Err(format!("use {u:?} is not \"sig\""));
        }
    }
    if let Some(ops) = &raw.key_ops {
        if !ops.iter().any(|o| o == "verify") {
            return Err("key_ops does not allow verify".into());
        }
    }
    let family = match (raw.kty.as_deref(), raw.crv.as_deref()) {
        (Some("RSA"), _) => KeyFamily::Rsa,
        (Some("EC"), Some("P-256")) => KeyFamily::P256,
        (Some("EC"), Some("P-384")) => KeyFamily::P384,
        (Some("OKP"), Some("Ed25519")) => KeyFamily::Ed25519,
        (kty, crv) => return Err(format!("unsupported key type {kty:?}/{crv:?}")),
    };
    let algs: Vec<Algorithm> = match &raw.alg {
        Some(name) => {
            let alg = Algorithm::parse(name).ok_or(format!("unsupported alg {name:?}"))?;
            if alg.family() != family {
                return Err(format!("alg {name} does not fit the key type"));
            }
            vec![alg]
        }
        None => Algorithm::ALL
            .into_iter()
            .filter(|a| a.family() == family)
            .collect(),
    };
    let algs: Vec<Algorithm> = algs.into_iter().filter(|a| allowed.contains(a)).collect();
    if algs.is_empty() {
        return Err("no allowed algorithm for this key".into());
    }
    let material = KeyMaterial::decode(raw, family)?;
    let spki = match &material {
        KeyMaterial::Rsa { n, e } => Some(
            RS256PublicKey::from_components(n, e)
                .and_then(|k| k.to_der())
                .map_err(|e| format!("unusable RSA key: {e}"))?,
        ),
        _ => None,
    };
    let keys = algs
        .into_iter()
        .map(|alg| {
            Ok(Key {
                kid: raw.kid.clone(),
                alg,
                material: material.typed(alg)?,
                spki: spki.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((family, keys))
}

/// Decoded public key bytes, before binding to an algorithm.
enum KeyMaterial {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Sec1(Vec<u8>),
    Ed25519(Vec<u8>),
}

fn field(value: &Option<String>, name: &str) -> Result<Vec<u8>, String> {
    let text = value.as_deref().ok_or(format!("missing {name}"))?;
    b64::decode(text.as_bytes()).ok_or(format!("{name} is not base64url"))
}

impl KeyMaterial {
    fn decode(raw: &RawJwk, family: KeyFamily) -> Result<KeyMaterial, String> {
        match family {
            KeyFamily::Rsa => {
                let n = field(&raw.n, "n")?;
                let e = field(&raw.e, "e")?;
                let n: Vec<u8> = n.into_iter().skip_while(|b| *b == 0).collect();
                let bits = match n.first() {
                    Some(first) => n.len() * 8 - first.leading_zeros() as usize,
                    None => 0,
                };
                if bits < MIN_RSA_BITS {
                    return Err(format!("RSA key of {bits} bits (at least {MIN_RSA_BITS})"));
                }
                if bits > MAX_RSA_BITS {
                    return Err(format!("RSA key of {bits} bits (at most {MAX_RSA_BITS})"));
                }
                if e.is_empty() || e.len() > 8 {
                    return Err("bad RSA exponent".into());
                }
                Ok(KeyMaterial::Rsa { n, e })
            }
            KeyFamily::P256 | KeyFamily::P384 => {
                let len = if family == KeyFamily::P256 { 32 } else { 48 };
                let x = field(&raw.x, "x")?;
                let y = field(&raw.y, "y")?;
                if x.len() != len || y.len() != len {
                    return Err("EC coordinates of the wrong length".into());
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Ok(KeyMaterial::Sec1(point))
            }
            KeyFamily::Ed25519 => {
                let x = field(&raw.x, "x")?;
                if x.len() != 32 {
                    return Err("Ed25519 key of the wrong length".into());
                }
                Ok(KeyMaterial::Ed25519(x))
            }
        }
    }

    fn typed(&self, alg: Algorithm) -> Result<Material, String> {
        let bad = |e: jwt_simple::Error| format!("unusable {alg} key: {e}");
        Ok(match (self, alg) {
            (KeyMaterial::Rsa { n, e }, Algorithm::RS256) => {
                Material::RS256(RS256PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e }, Algorithm::RS384) => {
                Material::RS384(RS384PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e }, Algorithm::RS512) => {
                Material::RS512(RS512PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e }, Algorithm::PS256) => {
                Material::PS256(PS256PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e }, Algorithm::PS384) => {
                Material::PS384(PS384PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Rsa { n, e }, Algorithm::PS512) => {
                Material::PS512(PS512PublicKey::from_components(n, e).map_err(bad)?)
            }
            (KeyMaterial::Sec1(p), Algorithm::ES256) => {
                Material::ES256(ES256PublicKey::from_bytes(p).map_err(bad)?)
            }
            (KeyMaterial::Sec1(p), Algorithm::ES384) => {
                Material::ES384(ES384PublicKey::from_bytes(p).map_err(bad)?)
            }
            (KeyMaterial::Ed25519(x), Algorithm::EdDSA) => {
                Material::EdDSA(Ed25519PublicKey::from_bytes(x).map_err(bad)?)
            }
            _ => return Err(format!("{alg} does not fit the key type")),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testkeys;

    #[test]
    fn parses_auth0_style_rsa_set() {
        let set = KeySet::parse(
            testkeys::jwks(&[testkeys::rsa_jwk("k1", true)]).as_bytes(),
            &Algorithm::ALL,
        )
        .unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.candidates(Some("k1"), Algorithm::RS256).count(), 1);
        assert_eq!(set.candidates(Some("k1"), Algorithm::PS256).count(), 0);
        assert_eq!(set.candidates(Some("k2"), Algorithm::RS256).count(), 0);
        assert!(set.has_kid("k1"));
    }

    #[test]
    fn rsa_key_without_alg_serves_every_allowed_rsa_algorithm() {
        let doc = testkeys::jwks(&[testkeys::rsa_jwk("k1", false)]);
        let set = KeySet::parse(doc.as_bytes(), &[Algorithm::RS256, Algorithm::PS256]).unwrap();
        assert_eq!(set.candidates(Some("k1"), Algorithm::PS256).count(), 1);
        assert_eq!(set.candidates(Some("k1"), Algorithm::RS384).count(), 0);
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn skips_unusable_keys_and_keeps_the_rest() {
        let doc = testkeys::jwks(&[
            r#"{"kty":"oct","kid":"h","k":"c2VjcmV0"}"#.to_string(),
            r#"{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}"#.to_string(),
            r#"{"kty":"EC","kid":"off","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#.to_string(),
            r#"{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}"#.to_string(),
            r#"{"kty":"RSA","kid":5}"#.to_string(),
            testkeys::rsa_jwk("good", true),
        ]);
        let set = KeySet::parse(doc.as_bytes(), &Algorithm::ALL).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.skipped().len(), 5, "{:?}", set.skipped());
    }

    #[test]
    fn duplicate_kids_are_dropped() {
        let doc = testkeys::jwks(&[
            testkeys::rsa_jwk("dup", true),
            testkeys::rsa_jwk("dup", true),
            testkeys::rsa_jwk("ok", true),
        ]);
        let set = KeySet::parse(doc.as_bytes(), &Algorithm::ALL).unwrap();
        assert!(!set.has_kid("dup"));
        assert!(set.has_kid("ok"));
    }

    #[test]
    fn refuses_documents_without_usable_keys() {
        for doc in [
            "",
            "not json",
            "{}",
            r#"{"keys":{}}"#,
            r#"{"keys":[]}"#,
            r#"{"keys":[{"kty":"oct","k":"AA"}]}"#,
            "<html>502 Bad Gateway</html>",
        ] {
            assert!(
                KeySet::parse(doc.as_bytes(), &Algorithm::ALL).is_err(),
                "{doc}"
            );
        }
        let huge = vec![b' '; MAX_JWKS_BYTES + 1];
        assert!(KeySet::parse(&huge, &Algorithm::ALL).is_err());
    }

    #[test]
    fn key_alg_must_fit_key_type_and_allow_list() {
        let rsa_as_es = testkeys::rsa_jwk("k", true).replace("RS256", "ES256");
        assert!(KeySet::parse(testkeys::jwks(&[rsa_as_es]).as_bytes(), &Algorithm::ALL).is_err());
        let doc = testkeys::jwks(&[testkeys::rsa_jwk("k", true)]);
        assert!(KeySet::parse(doc.as_bytes(), &[Algorithm::ES256]).is_err());
    }
}
