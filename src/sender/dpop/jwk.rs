//! The public key a DPoP proof carries in its `jwk` header (RFC 9449 §4.2): refused when it
//! holds private or symmetric material, turned into a verification key by the JWKS parser
//! (so every backend, the host's included, verifies proofs as it verifies tokens), and
//! named by its RFC 7638 SHA-256 thumbprint, the value of a bound token's `cnf.jkt`.

use crate::alg::Algorithm;
use crate::jwks::Key;
use serde_json::{Map, Value};

/// JWK members that only private or symmetric keys carry (RFC 7518 §6.2.2, §6.3.2, §6.4).
pub const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a proof's `jwk` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum JwkError {
    /// No `jwk` object in the header.
    #[error("proof header has no jwk object")]
    Missing,
    /// Private or symmetric key material in the header.
    #[error("proof jwk carries private key material")]
    Private,
    /// A key type, curve or size the proof's `alg` cannot use.
    #[error("proof jwk is not a usable public key for its alg")]
    Unusable,
}

/// A proof key: usable for one algorithm, with its thumbprint.
#[derive(Debug)]
pub struct ProofKey {
    /// The verification key.
    pub key: Key,
    /// RFC 7638 SHA-256 thumbprint, base64url.
    pub thumbprint: String,
}

impl ProofKey {
    /// Reads the header's `jwk` for a proof signed with `alg`.
    pub fn from_header(header: &Map<String, Value>, alg: Algorithm) -> Result<ProofKey, JwkError> {
        let Some(value @ Value::Object(jwk)) = header.get("jwk") else {
            return Err(JwkError::Missing);
        };
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(JwkError::Private);
        }
        let thumbprint = thumbprint(jwk).ok_or(JwkError::Unusable)?;
        // The proof's `alg` says how the key is used: a key without `alg` takes it, one
        // with another `alg` is refused as not fitting.
        let key = Key::from_jwk(value, alg).map_err(|_| JwkError::Unusable)?;
        Ok(ProofKey { key, thumbprint })
    }
}

/// The RFC 7638 thumbprint: SHA-256 over the required members, sorted, without spaces.
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let text = |name: &str| match jwk.get(name) {
        Some(Value::String(s)) => serde_json::to_string(s).ok(),
        _ => None,
    };
    let canonical = match jwk.get("kty").and_then(Value::as_str)? {
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            text("crv")?,
            text("x")?,
            text("y")?
        ),
        "RSA" => format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, text("e")?, text("n")?),
        "OKP" => format!(
            r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
            text("crv")?,
            text("x")?
        ),
        _ => return None,
    };
    Some(crate::sender::sha256_b64(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkeys;

    fn header(jwk: &str) -> Map<String, Value> {
        crate::json::parse_object(format!(r#"{{"jwk":{jwk}}}"#).as_bytes()).unwrap()
    }

    #[test]
    fn rfc_7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let jwk = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;
        let map = crate::json::parse_object(jwk.as_bytes()).unwrap();
        assert_eq!(
            thumbprint(&map).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn thumbprint_ignores_optional_members_and_order() {
        let a = header(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AQ"}"#);
        let b = header(r#"{"y":"AQ","use":"sig","x":"AA","kid":"z","crv":"P-256","kty":"EC"}"#);
        let t = |m: &Map<String, Value>| thumbprint(m.get("jwk").unwrap().as_object().unwrap());
        assert_eq!(t(&a), t(&b));
        assert!(t(&a).is_some());
        assert_eq!(t(&header(r#"{"kty":"EC","crv":"P-256","x":"AA"}"#)), None);
        assert_eq!(t(&header(r#"{"kty":"oct","k":"AA"}"#)), None);
        assert_eq!(
            t(&header(r#"{"kty":"EC","crv":"P-256","x":1,"y":"AQ"}"#)),
            None
        );
    }

    #[test]
    fn public_keys_are_usable_private_ones_refused() {
        let es = testkeys::es256_jwk("e1");
        let key = ProofKey::from_header(&header(&es), Algorithm::ES256).unwrap();
        assert_eq!(key.key.alg, Algorithm::ES256);
        let rsa = testkeys::rsa_jwk("r", false);
        assert!(ProofKey::from_header(&header(&rsa), Algorithm::PS256).is_ok());
        let rs256_only = testkeys::rsa_jwk("r", true);
        assert_eq!(
            ProofKey::from_header(&header(&rs256_only), Algorithm::PS256).unwrap_err(),
            JwkError::Unusable
        );
        assert_eq!(
            ProofKey::from_header(&header(&es), Algorithm::RS256).unwrap_err(),
            JwkError::Unusable
        );
        for member in PRIVATE_MEMBERS {
            let with_private = es.replacen('{', &format!(r#"{{"{member}":"AAAA","#), 1);
            assert_eq!(
                ProofKey::from_header(&header(&with_private), Algorithm::ES256).unwrap_err(),
                JwkError::Private,
                "{member}"
            );
        }
        assert_eq!(
            ProofKey::from_header(&Map::new(), Algorithm::ES256).unwrap_err(),
            JwkError::Missing
        );
        assert_eq!(
            ProofKey::from_header(&header(r#""string""#), Algorithm::ES256).unwrap_err(),
            JwkError::Missing
        );
    }
}
