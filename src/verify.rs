//! Token verification for one provider: claims (`exp`, `nbf`, `iat`, `aud`), the `alg`
//! allow-list, key selection by `kid` from the JWKS only, then the signature through a
//! [`SignatureCheck`] backend.

use crate::config::Provider;
use crate::jwks::{KeyId, KeySet};
use crate::signature::SignatureCheck;
use crate::token::{Claims, Jws, TokenError};

/// Most keys tried for a token without `kid`.
const MAX_KIDLESS_CANDIDATES: usize = 4;

/// What was learnt from verifying a token once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Index of the provider whose keys verified it.
    pub provider: usize,
    /// The identity of the key material that verified it: the entry is only used while
    /// the provider's current keys hold that material.
    pub key: KeyId,
    /// Its validity window.
    pub window: Window,
    /// Scopes and permissions it grants.
    pub granted: Vec<String>,
    /// Headers to add for the upstream.
    pub headers: Vec<(String, String)>,
    /// Claim values not forwarded because a hop would change them.
    pub withheld: u32,
    /// What the token is bound to (`cnf`), checked against each request's sender.
    pub cnf: crate::sender::cnf::Confirmation,
    /// How and when the user signed in, for step-up rules.
    pub auth: crate::stepup::AuthContext,
    /// The configured `claims` conditions this token fails (rules' conditions are judged
    /// once, at verification, so a cached token needs no claims kept).
    pub unmet: Vec<crate::claims::ClaimRule>,
}

/// When a token may be used: `[not_before - skew, exp + skew]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// `exp`, seconds since the epoch.
    pub exp: u64,
    /// The later of `nbf` and `iat` (a token is not valid before it was issued).
    pub not_before: u64,
}

impl Window {
    /// The window of `claims`; `exp` is required.
    pub fn of(claims: &Claims) -> Result<Window, TokenError> {
        let exp = claims
            .expires_at
            .ok_or(TokenError::MissingExpiry)?
            .as_secs();
        let nbf = claims.invalid_before.map_or(0, |t| t.as_secs());
        let iat = claims.issued_at.map_or(0, |t| t.as_secs());
        Ok(Window {
            exp,
            not_before: nbf.max(iat),
        })
    }

    /// Whether `now` falls inside the window, give or take `skew` seconds.
    pub fn check(self, now: u64, skew: u64) -> Result<(), TokenError> {
        if now > self.exp.saturating_add(skew) {
            return Err(TokenError::Expired);
        }
        if self.not_before > now.saturating_add(skew) {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }
}

/// Checks the time and audience claims at `now` (seconds since the epoch).
pub fn check_claims(
    claims: &Claims,
    provider: &Provider,
    now: u64,
    skew: u64,
) -> Result<Window, TokenError> {
    let window = Window::of(claims)?;
    window.check(now, skew)?;
    let audience_ok = match &claims.audiences {
        Some(jwt_simple::claims::Audiences::AsString(a)) => provider.audiences.contains(a),
        Some(jwt_simple::claims::Audiences::AsSet(set)) => {
            provider.audiences.iter().any(|a| set.contains(a))
        }
        None => false,
    };
    if !audience_ok {
        return Err(TokenError::Audience);
    }
    Ok(window)
}

/// Verifies `jws` (whose `iss` is `provider.issuer`) with the provider's keys; returns the
/// validity window and the identity of the key that verified it.
pub fn verify(
    jws: &Jws<'_>,
    provider: &Provider,
    keys: &KeySet,
    now: u64,
    skew: u64,
    backend: &dyn SignatureCheck,
) -> Result<(Window, KeyId), TokenError> {
    let window = check_claims(&jws.claims, provider, now, skew)?;
    if !provider.algorithms.contains(&jws.alg) {
        return Err(TokenError::Algorithm(
            "algorithm not allowed for this issuer",
        ));
    }
    match jws.kid.as_deref() {
        Some(kid) => match keys.candidates(Some(kid), jws.alg).next() {
            Some(key) => backend.check(key, jws).map(|()| (window, key.id)),
            None if keys.has_kid(kid) => {
                Err(TokenError::Algorithm("algorithm does not match the key"))
            }
            None => Err(TokenError::UnknownKey),
        },
        None => {
            let mut result = Err(TokenError::UnknownKey);
            for key in keys.candidates(None, jws.alg).take(MAX_KIDLESS_CANDIDATES) {
                result = backend.check(key, jws).map(|()| (window, key.id));
                if result.is_ok() {
                    break;
                }
            }
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alg::Algorithm;
    use crate::config::Config;
    use crate::signature::jwtsimple::JwtSimple;
    use crate::testkeys::{self, compact, sign_es256, sign_rs256};
    use crate::token::parse;

    const NOW: u64 = 1_800_000_000;

    fn provider(jwks: &str) -> Config {
        let cfg = serde_json::json!({"providers":[{"name":"p","issuer":"https://t/",
            "audiences":["api","other"],"jwks":jwks}]});
        Config::parse(cfg.to_string().as_bytes()).unwrap()
    }

    fn keyset(cfg: &Config) -> &KeySet {
        match &cfg.providers[0].keys {
            crate::config::KeySource::Inline(k) => k,
            _ => panic!("inline keys expected"),
        }
    }

    fn claims(extra: &str) -> String {
        format!(
            r#"{{"iss":"https://t/","aud":"api","exp":{},{extra}"sub":"u"}}"#,
            NOW + 300
        )
    }

    fn run(cfg: &Config, token: &str) -> Result<(), TokenError> {
        let jws = parse(token, 8192)?;
        verify(&jws, &cfg.providers[0], keyset(cfg), NOW, 60, &JwtSimple).map(|_| ())
    }

    fn rsa_cfg() -> Config {
        provider(&testkeys::jwks(&[
            testkeys::rsa_jwk("k1", true),
            testkeys::es256_jwk("e1"),
        ]))
    }

    #[test]
    fn accepts_valid_rs256_and_es256() {
        let cfg = rsa_cfg();
        assert_eq!(run(&cfg, &sign_rs256("k1", &claims(""))), Ok(()));
        assert_eq!(run(&cfg, &sign_es256("e1", &claims(""))), Ok(()));
    }

    #[test]
    fn time_claims_honour_the_skew() {
        let cfg = rsa_cfg();
        let t = |c: String| run(&cfg, &sign_rs256("k1", &c));
        let base = r#""iss":"https://t/","aud":"api""#;
        assert_eq!(t(format!(r#"{{{base},"exp":{}}}"#, NOW - 30)), Ok(()));
        assert_eq!(
            t(format!(r#"{{{base},"exp":{}}}"#, NOW - 61)),
            Err(TokenError::Expired)
        );
        assert_eq!(t(format!(r#"{{{base}}}"#)), Err(TokenError::MissingExpiry));
        assert_eq!(t(claims(&format!(r#""nbf":{},"#, NOW + 30))), Ok(()));
        assert_eq!(
            t(claims(&format!(r#""nbf":{},"#, NOW + 61))),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            t(claims(&format!(r#""iat":{},"#, NOW + 3600))),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn audience_must_intersect() {
        let cfg = rsa_cfg();
        let t = |aud: &str| {
            let c = format!(r#"{{"iss":"https://t/","aud":{aud},"exp":{}}}"#, NOW + 10);
            run(&cfg, &sign_rs256("k1", &c))
        };
        assert_eq!(t(r#"["https://t/userinfo","other"]"#), Ok(()));
        assert_eq!(t(r#""nope""#), Err(TokenError::Audience));
        assert_eq!(t(r#"[]"#), Err(TokenError::Audience));
        assert_eq!(t(r#""API""#), Err(TokenError::Audience));
    }

    #[test]
    fn keys_come_from_the_jwks_only() {
        let cfg = rsa_cfg();
        assert_eq!(
            run(&cfg, &sign_rs256("k9", &claims(""))),
            Err(TokenError::UnknownKey)
        );
        // Right kid, other algorithm: algorithm confusion is refused before any crypto.
        let es_with_rsa_kid = sign_es256("k1", &claims(""));
        assert!(matches!(
            run(&cfg, &es_with_rsa_kid),
            Err(TokenError::Algorithm(_))
        ));
        // A token without kid is tried against the keys of its algorithm.
        assert_eq!(
            run(&cfg, &testkeys::sign_rs256_without_kid(&claims(""))),
            Ok(())
        );
    }

    #[test]
    fn signatures_are_checked() {
        let cfg = rsa_cfg();
        let token = sign_rs256("k1", &claims(""));
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut bytes = crate::b64::decode(sig.as_bytes()).unwrap();
        bytes[10] ^= 1;
        let forged = format!("{input}.{}", crate::b64::encode(&bytes));
        assert_eq!(run(&cfg, &forged), Err(TokenError::Signature));
        let tampered = compact(
            r#"{"alg":"RS256","kid":"k1"}"#,
            &claims(r#""admin":true,"#),
            &bytes,
        );
        assert_eq!(run(&cfg, &tampered), Err(TokenError::Signature));
        // ES256 signature in DER form, or with r = s = 0, never verifies.
        let zero = compact(r#"{"alg":"ES256","kid":"e1"}"#, &claims(""), &[0u8; 64]);
        assert_eq!(run(&cfg, &zero), Err(TokenError::Signature));
        let short = compact(r#"{"alg":"ES256","kid":"e1"}"#, &claims(""), &[1u8; 70]);
        assert_eq!(run(&cfg, &short), Err(TokenError::Signature));
    }

    #[test]
    fn algorithm_allow_list_is_per_issuer() {
        let jwks = testkeys::jwks(&[testkeys::rsa_jwk("k1", false)]);
        let cfg = serde_json::json!({"providers":[{"name":"p","issuer":"https://t/",
            "audiences":["api"],"jwks":jwks,"algorithms":["PS256"]}]});
        let cfg = Config::parse(cfg.to_string().as_bytes()).unwrap();
        assert!(matches!(
            run(&cfg, &sign_rs256("k1", &claims(""))),
            Err(TokenError::Algorithm(_))
        ));
        assert_eq!(cfg.providers[0].algorithms, vec![Algorithm::PS256]);
    }
}
