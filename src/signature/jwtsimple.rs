//! The reference signature backend: jwt-simple (pure Rust) verifies the whole token.

use super::SignatureCheck;
use crate::jwks::{Key, Material};
use crate::token::Jws;
use crate::token::TokenError;
use jwt_simple::prelude::{
    Duration, ECDSAP256PublicKeyLike, ECDSAP384PublicKeyLike, EdDSAPublicKeyLike, NoCustomClaims,
    RSAPublicKeyLike, UnixTimeStamp, VerificationOptions,
};

/// Verifies signatures with jwt-simple (pure Rust), the reference implementation.
pub struct JwtSimple;

impl SignatureCheck for JwtSimple {
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError> {
        // Claims were checked already; jwt-simple is asked for the signature alone, so
        // its own time checks are neutralised with a time inside the validity window.
        let options = VerificationOptions {
            accept_future: true,
            artificial_time: Some(UnixTimeStamp::from_secs(0)),
            time_tolerance: Some(Duration::from_secs(0)),
            max_token_length: None,
            max_header_length: None,
            ..VerificationOptions::default()
        };
        let token = jws.token;
        let result = match &key.material {
            Material::RS256(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
            Material::RS384(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
            Material::RS512(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
            Material::PS256(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
            Material::PS384(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
            Material::PS512(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
            Material::ES256(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
            Material::ES384(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
            Material::EdDSA(k) => k.verify_token::<NoCustomClaims>(token, Some(options)),
        };
        result.map(|_| ()).map_err(|_| TokenError::Signature)
    }
}
