use super::*;
use crate::alg::Algorithm;
use crate::testkeys::{compact, sign_rs256};
use crate::token::TokenError;

#[test]
fn extracts_bearer_case_insensitively() {
    assert_eq!(
        extract(&["Bearer abc.def.ghi"]),
        Credentials::Bearer("abc.def.ghi")
    );
    assert_eq!(
        extract(&["bEaReR   abc.def.ghi  "]),
        Credentials::Bearer("abc.def.ghi")
    );
    assert_eq!(extract(&[]), Credentials::None);
    assert_eq!(extract(&["Basic dXNlcjpwdw=="]), Credentials::None);
    assert_eq!(extract(&["Bearerabc"]), Credentials::None);
    // Repeated lines joined by Envoy: a token among them is refused, not ignored.
    for joined in [
        "Basic dXNlcjpwdw==,Bearer abc.def.ghi",
        "Basic dXNlcjpwdw==, bearer abc.def.ghi",
        "Bearer abc.def.ghi,Basic dXNlcjpwdw==",
        "Basic x,DPoP abc.def.ghi",
    ] {
        assert_eq!(
            extract(&[joined]),
            Credentials::Invalid("more than one Authorization header"),
            "{joined}"
        );
    }
    // Other schemes with commas in their parameters stay "no bearer credentials".
    assert_eq!(
        extract(&[r#"Digest username="u", realm="Bearer x", nonce="n""#]),
        Credentials::None
    );
    assert!(matches!(
        extract(&["Bearer a", "Bearer b"]),
        Credentials::Invalid(_)
    ));
    assert!(matches!(extract(&["Bearer"]), Credentials::Invalid(_)));
    assert!(matches!(extract(&["Bearer a b"]), Credentials::Invalid(_)));
    assert!(matches!(extract(&["Bearer a\"b"]), Credentials::Invalid(_)));
    assert!(matches!(extract(&["Bearer ==="]), Credentials::Invalid(_)));
    // What the host makes of a non-UTF-8 byte inside a token: still a bad bearer token.
    assert!(matches!(
        extract(&["Bearer abc\u{fffd}def"]),
        Credentials::Invalid(_)
    ));
    assert!(matches!(
        extract(&["Bearer \u{fffd}"]),
        Credentials::Invalid(_)
    ));
}

fn claims_now() -> String {
    r#"{"iss":"https://t/","aud":"api","exp":4000000000,"sub":"u"}"#.to_string()
}

#[test]
fn parses_a_valid_token() {
    let token = sign_rs256("k1", &claims_now());
    let jws = parse(&token, 8192).unwrap();
    assert_eq!(jws.alg, Algorithm::RS256);
    assert_eq!(jws.kid.as_deref(), Some("k1"));
    assert_eq!(jws.claims.issuer.as_deref(), Some("https://t/"));
    assert_eq!(jws.signature.len(), 256);
    assert!(token.starts_with(jws.signing_input));
}

fn malformed(token: &str) -> TokenError {
    parse(token, 8192).unwrap_err()
}

#[test]
fn refuses_structural_irregularities() {
    let good = sign_rs256("k1", &claims_now());
    let (input, sig) = good.rsplit_once('.').unwrap();
    for bad in [
        String::new(),
        "a.b".into(),
        format!("{good}.x.y"),
        format!("{input}."),
        format!("{input}.{sig}="),
        format!("{input}.{}", sig.replace('-', "+")),
        format!(" {good}"),
        "e30.e30.e30.e30.e30".into(),
        ".".repeat(5000),
    ] {
        assert!(parse(&bad, 8192).is_err(), "{bad}");
    }
    assert_eq!(
        parse(&good, 100).unwrap_err(),
        TokenError::Malformed("token too large")
    );
}

#[test]
fn refuses_dangerous_headers() {
    let claims = claims_now();
    for (header, expected) in [
        (
            r#"{"alg":"none"}"#,
            TokenError::Algorithm("algorithm not accepted"),
        ),
        (
            r#"{"alg":"NoNe"}"#,
            TokenError::Algorithm("algorithm not accepted"),
        ),
        (
            r#"{"alg":"HS256"}"#,
            TokenError::Algorithm("algorithm not accepted"),
        ),
        (
            r#"{"alg":"RS256","crit":["exp"]}"#,
            TokenError::Malformed("unsupported critical header"),
        ),
        (
            r#"{"alg":"RS256","b64":false}"#,
            TokenError::Malformed("unencoded payload not supported"),
        ),
        (
            r#"{"alg":"RS256","alg":"none"}"#,
            TokenError::Malformed("header is not a JSON object"),
        ),
        (
            r#"["RS256"]"#,
            TokenError::Malformed("header is not a JSON object"),
        ),
        (
            r#"{"alg":"RS256","kid":7}"#,
            TokenError::Malformed("kid is not a short string"),
        ),
        (
            r#"{"alg":"RS256","typ":"JOSE+JSON"}"#,
            TokenError::Malformed("typ is not a JWT type"),
        ),
        (r#"{"kid":"x"}"#, TokenError::Malformed("header has no alg")),
    ] {
        assert_eq!(
            malformed(&compact(header, &claims, b"sig")),
            expected,
            "{header}"
        );
    }
    let ok = compact(
        r#"{"alg":"RS256","typ":"at+jwt","jku":"https://evil/","jwk":{}}"#,
        &claims,
        b"s",
    );
    assert!(parse(&ok, 8192).is_ok());
}

#[test]
fn refuses_claims_of_the_wrong_type() {
    for claims in [
        r#"{"exp":"4000000000"}"#,
        r#"{"exp":1.5}"#,
        r#"{"exp":-1}"#,
        r#"{"exp":1e300}"#,
        r#"{"nbf":99999999999999}"#,
        r#"{"aud":5}"#,
        r#"{"aud":["a",5]}"#,
        r#"{"iss":{"x":1}}"#,
        r#"{"scope":["a"]}"#,
        r#"{"permissions":"a"}"#,
    ] {
        let err = malformed(&compact(r#"{"alg":"RS256"}"#, claims, b"sig"));
        assert!(matches!(err, TokenError::Claims(_)), "{claims} -> {err:?}");
    }
    let err = malformed(&compact(r#"{"alg":"RS256"}"#, r#"{"exp":1,"exp":2}"#, b"s"));
    assert_eq!(err, TokenError::Malformed("payload is not a JSON object"));
}
