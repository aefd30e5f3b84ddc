//! Signature checks over a JWS's signing input, for DPoP proofs: jwt-simple re-parses the
//! header and refuses the `jwk` object every proof carries, so proofs are verified here
//! with the RustCrypto / ed25519-compact primitives jwt-simple itself uses. A host backend
//! that verifies the signing input (Envoy's BoringSSL) can serve proofs just as well.

use crate::alg::Algorithm;
use crate::jwks::{Key, Material};
use crate::reject::TokenError;
use crate::token::Jws;
use crate::verify::SignatureCheck;
use jwt_simple::prelude::{ECDSAP256PublicKeyLike, ECDSAP384PublicKeyLike};
use p256::ecdsa::signature::Verifier;

/// The proof algorithms [`RawSignature`] verifies (and so the `algs` jwt-guard offers).
pub const PROOF_ALGORITHMS: [Algorithm; 3] = [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA];

/// Verifies ES256, ES384 and EdDSA signatures over `signing_input`.
pub struct RawSignature;

impl SignatureCheck for RawSignature {
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError> {
        let message = jws.signing_input.as_bytes();
        let ok = match &key.material {
            Material::ES256(k) => {
                let point = k.public_key().to_bytes_uncompressed();
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point);
                let sig = p256::ecdsa::Signature::from_slice(&jws.signature);
                matches!((vk, sig), (Ok(vk), Ok(sig)) if vk.verify(message, &sig).is_ok())
            }
            Material::ES384(k) => {
                let point = k.public_key().to_bytes_uncompressed();
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point);
                let sig = p384::ecdsa::Signature::from_slice(&jws.signature);
                matches!((vk, sig), (Ok(vk), Ok(sig)) if vk.verify(message, &sig).is_ok())
            }
            Material::EdDSA(k) => {
                let pk = ed25519_compact::PublicKey::from_slice(&k.to_bytes());
                let sig = ed25519_compact::Signature::from_slice(&jws.signature);
                matches!((pk, sig), (Ok(pk), Ok(sig)) if pk.verify(message, &sig).is_ok())
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(TokenError::Signature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwks::KeySet;
    use crate::testkeys;
    use crate::token;
    use crate::verify::JwtSimple;

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
        assert_eq!(RawSignature.check(key, &jws), Ok(()));
        assert_eq!(JwtSimple.check(key, &jws), Ok(()));
        let forged = flip_signature(&good);
        let jws = token::parse(&forged, 8192).unwrap();
        assert_eq!(RawSignature.check(key, &jws), Err(TokenError::Signature));
        // Keys of other algorithms are not verified here.
        let rsa = testkeys::sign_rs256("r1", claims());
        let jws = token::parse(&rsa, 8192).unwrap();
        let key = keys
            .candidates(Some("r1"), Algorithm::RS256)
            .next()
            .unwrap();
        assert_eq!(RawSignature.check(key, &jws), Err(TokenError::Signature));
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
        assert_eq!(RawSignature.check(key, &jws), Ok(()));
        let forged = flip_signature(&proof);
        let jws = token::parse(&forged, 8192).unwrap();
        assert_eq!(RawSignature.check(key, &jws), Err(TokenError::Signature));
    }
}
