//! `jwt-guard jwks`: each key listed, the problems named, exit codes.

use crate::support::*;

#[test]
fn a_good_key_set_lists_its_keys() {
    let d = Dir::new("jwks-good");
    let no_alg = rsa_jwk("b").replace(r#","alg":"RS256""#, "");
    let f = d.file(
        "jwks.json",
        &format!(r#"{{"keys":[{},{no_alg}]}}"#, rsa_jwk("a")),
    );
    let r = run(&["jwks", &f], "");
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains(r#"key 0: kid "a", RSA 2048 bits, alg RS256: accepted for RS256"#),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(
        r#"key 1: kid "b", RSA 2048 bits, alg (none): accepted for RS256 (RS256, RS384, RS512, PS256, PS384, PS512 when a provider lists them in algorithms)"#
    ), "{}", r.stdout);
    assert!(r.stdout.contains("no problems found"));
    let r = run(&["jwks", "--json", "-"], &jwks("a"));
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["keys"][0]["accepted"], serde_json::json!(["RS256"]));
    assert_eq!(v["keys"][0]["size"], "2048 bits");
}

#[test]
fn problems_are_named() {
    let key = rsa_jwk("dup");
    let no_kid = rsa_jwk("x").replace(r#""kid":"x","#, "");
    let private = rsa_jwk("p").replace(r#""e":"#, r#""d":"AAAA","e":"#);
    // A 1024-bit modulus (its top bit set).
    let small = format!(
        r#"{{"kty":"RSA","kid":"small","n":"{}","e":"AQAB"}}"#,
        jwt_guard::b64::encode(&[0xc1; 128])
    );
    let ec = r#"{"kty":"EC","kid":"ec","crv":"P-521","x":"AA","y":"AA"}"#;
    let doc = format!(r#"{{"keys":[{key},{key},{no_kid},{private},{small},{ec}]}}"#);
    let r = run(&["jwks", "-"], &doc);
    assert_eq!(r.code, 1, "{}", r.all());
    for expected in [
        r#"key 0: kid "dup" is not unique in this JWKS"#,
        "key 2: no kid",
        "key 3: private key members present (d)",
        "key 4: RSA key of 1024 bits: under 2048 bits",
        "key 4: ignored by jwt-guard: RSA key of 1024 bits (2048-4096 accepted)",
        r#"key 5: ignored by jwt-guard: unsupported key type Some("EC")/Some("P-521")"#,
        r#"ignored by jwt-guard: kid Some("dup") appears more than once"#,
    ] {
        assert!(r.stdout.contains(expected), "{expected}:\n{}", r.stdout);
    }
}

#[test]
fn not_a_jwks_exits_2() {
    let r = run(&["jwks", "-"], "[1]");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no \"keys\" array"));
    let r = run(&["jwks", "/nonexistent.json"], "");
    assert_eq!(r.code, 2);
}
