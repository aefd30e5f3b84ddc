//! JWKS parsing tests.

use super::*;
use crate::b64;
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
fn key_without_alg_serves_its_type_default_unless_algorithms_are_listed() {
    let doc = testkeys::jwks(&[testkeys::rsa_jwk("k1", false), testkeys::es256_jwk("e1")]);
    // The default allow-list (every algorithm) does not widen an alg-less key.
    let set = KeySet::parse(doc.as_bytes(), &Algorithm::ALL).unwrap();
    assert_eq!(set.candidates(Some("k1"), Algorithm::RS256).count(), 1);
    assert_eq!(set.candidates(Some("k1"), Algorithm::PS256).count(), 0);
    assert_eq!(set.candidates(Some("e1"), Algorithm::ES256).count(), 1);
    // A written-out list does, within the key's type.
    let set = KeySet::parse_listed(
        doc.as_bytes(),
        &[Algorithm::RS256, Algorithm::PS256, Algorithm::ES256],
    )
    .unwrap();
    assert_eq!(set.candidates(Some("k1"), Algorithm::PS256).count(), 1);
    assert_eq!(set.candidates(Some("k1"), Algorithm::RS384).count(), 0);
    assert_eq!(set.len(), 2);
    // Default not allowed: the key serves nothing unless listed.
    let only_ps = KeySet::parse(doc.as_bytes(), &[Algorithm::PS256, Algorithm::ES256]).unwrap();
    assert!(!only_ps.has_kid("k1"));
    let listed_ps = KeySet::parse_listed(doc.as_bytes(), &[Algorithm::PS256]).unwrap();
    assert_eq!(
        listed_ps.candidates(Some("k1"), Algorithm::PS256).count(),
        1
    );
}

#[test]
fn key_ids_follow_the_material_not_the_kid() {
    let a = KeySet::parse(
        testkeys::jwks(&[testkeys::rsa_jwk("k1", true)]).as_bytes(),
        &Algorithm::ALL,
    )
    .unwrap();
    let b = KeySet::parse(
        testkeys::jwks(&[testkeys::rsa_jwk("other", false)]).as_bytes(),
        &Algorithm::ALL,
    )
    .unwrap();
    let c = KeySet::parse(
        testkeys::jwks(&[testkeys::es256_jwk("k1")]).as_bytes(),
        &Algorithm::ALL,
    )
    .unwrap();
    let id = |s: &KeySet, alg| s.candidates(None, alg).next().unwrap().id;
    assert_eq!(id(&a, Algorithm::RS256), id(&b, Algorithm::RS256));
    assert_ne!(id(&a, Algorithm::RS256), id(&c, Algorithm::ES256));
    assert!(a.contains(&id(&b, Algorithm::RS256)));
    assert!(!a.contains(&id(&c, Algorithm::ES256)));
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

#[test]
fn rsa_and_ec_keys_carry_their_der_spki() {
    let doc = testkeys::jwks(&[testkeys::rsa_jwk("r", true), testkeys::es256_jwk("e")]);
    let set = KeySet::parse(doc.as_bytes(), &Algorithm::ALL).unwrap();
    let rsa = set.candidates(Some("r"), Algorithm::RS256).next().unwrap();
    let ec = set.candidates(Some("e"), Algorithm::ES256).next().unwrap();
    assert_eq!(rsa.spki.as_ref().unwrap().first(), Some(&0x30));
    let spki = ec.spki.as_ref().unwrap();
    assert_eq!(spki.len(), 91, "P-256 SPKI is 91 bytes of DER");
    let Material::ES256(k) = &ec.material else {
        panic!()
    };
    assert_eq!(spki, &k.to_der().unwrap());
}

#[test]
fn rsa_keys_need_exponent_65537_and_the_refusal_says_so() {
    let with_e = |kid: &str, e: &[u8]| {
        let mut jwk: serde_json::Value =
            serde_json::from_str(&testkeys::rsa_jwk(kid, true)).unwrap();
        jwk["e"] = b64::encode(e).into();
        jwk.to_string()
    };
    // Leading zero bytes do not change the exponent.
    let doc = testkeys::jwks(&[with_e("three", &[3]), with_e("padded", &[0, 1, 0, 1])]);
    let set = KeySet::parse(doc.as_bytes(), &Algorithm::ALL).unwrap();
    assert!(set.has_kid("padded") && !set.has_kid("three"));
    assert_eq!(set.rsa_exponent_refused(), 1);
    assert_eq!(
        set.skipped(),
        [r#"key 0 (Some("three")): RSA public exponent 3 is not 65537, the only one accepted"#]
    );
    for e in [&[1, 0, 0, 1][..], &[1, 0, 3], &[0xff; 8]] {
        let only = testkeys::jwks(&[with_e("k", e)]);
        let refused = KeySet::parse(only.as_bytes(), &Algorithm::ALL).unwrap_err();
        assert!(refused.to_string().contains("is not 65537"), "{refused}");
    }
    let ok = KeySet::parse(
        testkeys::jwks(&[testkeys::rsa_jwk("k", true)]).as_bytes(),
        &Algorithm::ALL,
    );
    assert_eq!(ok.unwrap().rsa_exponent_refused(), 0);
}
