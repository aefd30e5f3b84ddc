//! Signature checks over a JWS's signing input, for DPoP proofs: jwt-simple re-parses the
//! header and refuses the `jwk` object every proof carries, so proofs are verified here
//! with the RustCrypto / ed25519-compact primitives jwt-simple itself builds on. A host backend
//! that verifies the signing input (Envoy's BoringSSL) can serve proofs just as well.

use crate::alg::Algorithm;
use crate::jwks::{Key, Material};
use crate::signature::SignatureCheck;
use crate::token::Jws;
use crate::token::TokenError;
use jwt_simple::algorithms::RSAPublicKeyComponents;
use jwt_simple::prelude::{ECDSAP256PublicKeyLike, ECDSAP384PublicKeyLike};
use p256::ecdsa::signature::Verifier;
use rsa::{Pkcs1v15Sign, Pss};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Verifies every algorithm jwt-guard accepts over `signing_input`.
pub struct RustCrypto;

/// Proof signatures through the host (Envoy's BoringSSL, which verifies the signing input)
/// for the algorithms it serves, [`RustCrypto`] for the rest.
pub struct ProofSignature<'a> {
    /// The host backend, if any.
    pub host: Option<&'a dyn SignatureCheck>,
    /// The algorithms the host checks (RS*, and ES256/ES384 once its EC self-test passed).
    pub host_algorithms: &'a [Algorithm],
}

impl SignatureCheck for ProofSignature<'_> {
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError> {
        match self.host {
            Some(host) if self.host_algorithms.contains(&key.alg) && key.spki.is_some() => {
                host.check(key, jws)
            }
            _ => RustCrypto.check(key, jws),
        }
    }
}

/// An RSA signature with PKCS#1 v1.5 or PSS (salt as long as the hash, RFC 7518 §3.5).
fn rsa_ok(n: &[u8], e: &[u8], message: &[u8], signature: &[u8], alg: Algorithm) -> bool {
    let key = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(n),
        rsa::BigUint::from_bytes_be(e),
    );
    let Ok(key) = key else {
        return false;
    };
    let result = match alg {
        Algorithm::RS256 => key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(message),
            signature,
        ),
        Algorithm::RS384 => key.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(message),
            signature,
        ),
        Algorithm::RS512 => key.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(message),
            signature,
        ),
        Algorithm::PS256 => key.verify(Pss::new::<Sha256>(), &Sha256::digest(message), signature),
        Algorithm::PS384 => key.verify(Pss::new::<Sha384>(), &Sha384::digest(message), signature),
        Algorithm::PS512 => key.verify(Pss::new::<Sha512>(), &Sha512::digest(message), signature),
        _ => return false,
    };
    result.is_ok()
}

impl SignatureCheck for RustCrypto {
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError> {
        Self::check_message(key, &jws.signature, jws.signing_input.as_bytes())
    }
}

impl RustCrypto {
    /// Checks `signature`, as a JWS carries it, over `message` with `key`.
    pub fn check_message(key: &Key, signature: &[u8], message: &[u8]) -> Result<(), TokenError> {
        let ok = match &key.material {
            Material::ES256(k) => {
                let point = k.public_key().to_bytes_uncompressed();
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point);
                let sig = p256::ecdsa::Signature::from_slice(signature);
                matches!((vk, sig), (Ok(vk), Ok(sig)) if vk.verify(message, &sig).is_ok())
            }
            Material::ES384(k) => {
                let point = k.public_key().to_bytes_uncompressed();
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point);
                let sig = p384::ecdsa::Signature::from_slice(signature);
                matches!((vk, sig), (Ok(vk), Ok(sig)) if vk.verify(message, &sig).is_ok())
            }
            Material::EdDSA(k) => {
                let pk = ed25519_compact::PublicKey::from_slice(&k.to_bytes());
                let sig = ed25519_compact::Signature::from_slice(signature);
                matches!((pk, sig), (Ok(pk), Ok(sig)) if pk.verify(message, &sig).is_ok())
            }
            Material::RS256(k) => rsa_parts(k.to_components(), message, signature, key.alg),
            Material::RS384(k) => rsa_parts(k.to_components(), message, signature, key.alg),
            Material::RS512(k) => rsa_parts(k.to_components(), message, signature, key.alg),
            Material::PS256(k) => rsa_parts(k.to_components(), message, signature, key.alg),
            Material::PS384(k) => rsa_parts(k.to_components(), message, signature, key.alg),
            Material::PS512(k) => rsa_parts(k.to_components(), message, signature, key.alg),
        };
        if ok {
            Ok(())
        } else {
            Err(TokenError::Signature)
        }
    }
}

fn rsa_parts(c: RSAPublicKeyComponents, message: &[u8], signature: &[u8], alg: Algorithm) -> bool {
    rsa_ok(&c.n, &c.e, message, signature, alg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwks::KeySet;
    use crate::signature::jwtsimple::JwtSimple;
    use crate::testkeys;
    use crate::token;

    fn claims() -> &'static str {
        r#"{"iss":"https://t/","aud":"api","exp":4000000000}"#
    }

    fn flip_signature(token: &str) -> String {
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut bytes = crate::b64::decode(sig.as_bytes()).unwrap();
        bytes[3] ^= 1;
        format!("{input}.{}", crate::b64::encode(&bytes))
    }

    #[test]
    fn agrees_with_jwt_simple_on_plain_tokens() {
        let keys = KeySet::parse(
            testkeys::jwks(&[testkeys::es256_jwk("e1"), testkeys::rsa_jwk("r1", true)]).as_bytes(),
            &Algorithm::ALL,
        )
        .unwrap();
        let good = testkeys::sign_es256("e1", claims());
        let jws = token::parse(&good, 8192).unwrap();
        let key = keys
            .candidates(Some("e1"), Algorithm::ES256)
            .next()
            .unwrap();
        assert_eq!(RustCrypto.check(key, &jws), Ok(()));
        assert_eq!(JwtSimple.check(key, &jws), Ok(()));
        let forged = flip_signature(&good);
        let jws = token::parse(&forged, 8192).unwrap();
        assert_eq!(RustCrypto.check(key, &jws), Err(TokenError::Signature));
        let rsa = testkeys::sign_rs256("r1", claims());
        let jws = token::parse(&rsa, 8192).unwrap();
        let key = keys
            .candidates(Some("r1"), Algorithm::RS256)
            .next()
            .unwrap();
        assert_eq!(RustCrypto.check(key, &jws), Ok(()));
        let forged = flip_signature(&rsa);
        let jws = token::parse(&forged, 8192).unwrap();
        assert_eq!(RustCrypto.check(key, &jws), Err(TokenError::Signature));
    }

    #[test]
    fn verifies_pss_and_binds_the_padding_to_the_alg() {
        use jwt_simple::prelude::{PS256KeyPair, RSAKeyPairLike};
        let pair = PS256KeyPair::from_pem(include_str!("../testdata/rsa2048.pem")).unwrap();
        let claims: jwt_simple::claims::JWTClaims<serde_json::Value> =
            serde_json::from_str(claims()).unwrap();
        let ps = pair.sign(claims).unwrap();
        let as_ps256 = testkeys::rsa_jwk("p", true).replace("RS256", "PS256");
        let doc = testkeys::jwks(&[testkeys::rsa_jwk("r", true), as_ps256]);
        let keys = KeySet::parse(doc.as_bytes(), &[Algorithm::PS256, Algorithm::RS256]).unwrap();
        let jws = token::parse(&ps, 8192).unwrap();
        let pss = keys.candidates(Some("p"), Algorithm::PS256).next().unwrap();
        let pkcs1 = keys.candidates(Some("r"), Algorithm::RS256).next().unwrap();
        assert_eq!(RustCrypto.check(pss, &jws), Ok(()));
        assert_eq!(RustCrypto.check(pkcs1, &jws), Err(TokenError::Signature));
        let forged = flip_signature(&ps);
        let jws = token::parse(&forged, 8192).unwrap();
        assert_eq!(RustCrypto.check(pss, &jws), Err(TokenError::Signature));
    }

    /// A "host" that accepts everything, to see which path a proof took.
    struct Yes;

    impl SignatureCheck for Yes {
        fn check(&self, _: &Key, _: &Jws<'_>) -> Result<(), TokenError> {
            Ok(())
        }
    }

    #[test]
    fn proofs_go_to_the_host_only_for_its_algorithms() {
        let keys = KeySet::parse(
            testkeys::jwks(&[testkeys::es256_jwk("e1"), testkeys::rsa_jwk("r1", true)]).as_bytes(),
            &Algorithm::ALL,
        )
        .unwrap();
        let es = keys
            .candidates(Some("e1"), Algorithm::ES256)
            .next()
            .unwrap();
        let forged = flip_signature(&testkeys::sign_es256("e1", claims()));
        let jws = token::parse(&forged, 8192).unwrap();
        let rsa_only = ProofSignature {
            host: Some(&Yes),
            host_algorithms: &[Algorithm::RS256],
        };
        assert_eq!(rsa_only.check(es, &jws), Err(TokenError::Signature));
        let with_ec = ProofSignature {
            host: Some(&Yes),
            host_algorithms: &[Algorithm::RS256, Algorithm::ES256],
        };
        assert_eq!(with_ec.check(es, &jws), Ok(()));
        let none = ProofSignature {
            host: None,
            host_algorithms: &[Algorithm::ES256],
        };
        assert_eq!(none.check(es, &jws), Err(TokenError::Signature));
    }

    #[test]
    fn verifies_eddsa() {
        let kp = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([5; 32]));
        let jwk = format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
            crate::b64::encode(kp.pk.as_ref())
        );
        let keys = KeySet::parse(testkeys::jwks(&[jwk]).as_bytes(), &[Algorithm::EdDSA]).unwrap();
        let key = keys.candidates(None, Algorithm::EdDSA).next().unwrap();
        let input = format!(
            "{}.{}",
            crate::b64::encode(br#"{"alg":"EdDSA","jwk":{}}"#),
            crate::b64::encode(claims().as_bytes())
        );
        let sig = kp.sk.sign(input.as_bytes(), None);
        let proof = format!("{input}.{}", crate::b64::encode(sig.as_ref()));
        let jws = token::parse(&proof, 8192).unwrap();
        assert_eq!(RustCrypto.check(key, &jws), Ok(()));
        let forged = flip_signature(&proof);
        let jws = token::parse(&forged, 8192).unwrap();
        assert_eq!(RustCrypto.check(key, &jws), Err(TokenError::Signature));
    }
}
