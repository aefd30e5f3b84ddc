//! Bearer token extraction (RFC 6750 §2.1) and strict JWS compact parsing (RFC 7515 §7.1).
//! Nothing here is trusted yet: the header and claims are only decoded and type-checked.

use crate::alg::Algorithm;
use crate::reject::TokenError;
use crate::sources::Shape;
use crate::{b64, json};
use jwt_simple::claims::JWTClaims;
use serde_json::{Map, Value};

/// Claims beyond the registered ones, kept as JSON.
pub type Claims = JWTClaims<Map<String, Value>>;

/// What the `Authorization` header(s) of a request carry.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// No `Authorization` header, or one with another scheme.
    None,
    /// A syntactically valid bearer token.
    Bearer(&'a str),
    /// Several `Authorization` headers, or a `Bearer` header with a malformed token.
    Invalid(&'static str),
}

/// Reads the bearer token from all `Authorization` header values of a request.
pub fn extract<'a>(authorization: &[&'a str]) -> Credentials<'a> {
    let value = match authorization {
        [] => return Credentials::None,
        [one] => one.trim_matches([' ', '\t']),
        _ => return Credentials::Invalid("more than one Authorization header"),
    };
    // Envoy joins repeated `Authorization` lines with ",": `Basic x,Bearer t` is two headers,
    // one of them a token the upstream may read, so it is refused like any other pair.
    if value.contains(',') && value.split(',').any(carries_token) {
        return Credentials::Invalid("more than one Authorization header");
    }
    let (scheme, rest) = match value.find([' ', '\t']) {
        Some(i) => value.split_at(i),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::None;
    }
    bearer(rest.trim_start_matches([' ', '\t']))
}

/// `token` as a bearer credential: refused when empty or not a b64token.
pub fn bearer(token: &str) -> Credentials<'_> {
    if token.is_empty() {
        Credentials::Invalid("empty bearer token")
    } else if is_b64token(token) {
        Credentials::Bearer(token)
    } else {
        Credentials::Invalid("malformed bearer token")
    }
}

/// Whether `token` has RFC 6750's b64token syntax (RFC 9449's DPoP token68 is the same).
pub fn is_b64token(token: &str) -> bool {
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Whether one comma-separated element of an `Authorization` value starts with a scheme
/// that carries an access token (`Bearer`, `DPoP`).
fn carries_token(element: &str) -> bool {
    let scheme = element
        .trim_start_matches([' ', '\t'])
        .split([' ', '\t'])
        .next()
        .unwrap_or("");
    scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop")
}

/// A decoded, not yet verified, compact JWS.
#[derive(Debug)]
pub struct Jws<'a> {
    /// The whole token text.
    pub token: &'a str,
    /// `BASE64URL(header) "." BASE64URL(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    /// The base64url payload segment.
    pub payload_b64: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// The header's `alg`, already limited to supported asymmetric algorithms.
    pub alg: Algorithm,
    /// The header's `kid`.
    pub kid: Option<String>,
    /// The header's `typ` (a JWT type; the provider's profile may require `at+jwt`).
    pub typ: Option<String>,
    /// The decoded claims.
    pub claims: Claims,
}

/// Largest `kid` accepted in a token header.
const MAX_KID_LEN: usize = 256;
/// NumericDate values must fit the claim type jwt-simple uses (seconds < 2^32).
const MAX_NUMERIC_DATE: u64 = u32::MAX as u64;

/// Parses a compact JWS, bounding its size and refusing anything irregular.
pub fn parse(token: &str, max_bytes: usize) -> Result<Jws<'_>, TokenError> {
    if token.len() > max_bytes {
        return Err(TokenError::Malformed("token too large"));
    }
    match Shape::of(token) {
        Shape::Opaque => return Err(TokenError::NotJwt),
        Shape::Jwe => return Err(TokenError::Encrypted),
        Shape::Jws | Shape::Other => {}
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(sig_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("not a compact JWS of three segments"));
    };
    let header_bytes = b64::decode(header_b64.as_bytes())
        .ok_or(TokenError::Malformed("header is not base64url"))?;
    let header = json::parse_object(&header_bytes)
        .map_err(|_| TokenError::Malformed("header is not a JSON object"))?;
    let (alg, kid, typ) = check_header(&header)?;
    let payload_bytes = b64::decode(payload_b64.as_bytes())
        .ok_or(TokenError::Malformed("payload is not base64url"))?;
    let signature = b64::decode(sig_b64.as_bytes())
        .ok_or(TokenError::Malformed("signature is not base64url"))?;
    if signature.is_empty() {
        return Err(TokenError::Malformed("missing signature"));
    }
    let payload = json::parse_object(&payload_bytes)
        .map_err(|_| TokenError::Malformed("payload is not a JSON object"))?;
    check_claim_types(&payload)?;
    let claims: Claims = serde_json::from_value(Value::Object(payload))
        .map_err(|_| TokenError::Claims("claims of the wrong type"))?;
    let signing_input = token
        .get(..header_b64.len() + 1 + payload_b64.len())
        .ok_or(TokenError::Malformed("not a compact JWS of three segments"))?;
    Ok(Jws {
        token,
        signing_input,
        payload_b64,
        signature,
        alg,
        kid,
        typ,
        claims,
    })
}

/// A header's `alg`, `kid` and `typ`.
type Header = (Algorithm, Option<String>, Option<String>);

fn check_header(header: &Map<String, Value>) -> Result<Header, TokenError> {
    let alg = match header.get("alg") {
        Some(Value::String(name)) => {
            Algorithm::parse(name).ok_or(TokenError::Algorithm("algorithm not accepted"))?
        }
        _ => return Err(TokenError::Malformed("header has no alg")),
    };
    // RFC 7515 §4.1.11: we implement no extension, so any `crit` is fatal. `b64` (RFC 7797)
    // changes what the signature covers and is only legal alongside `crit`.
    if header.contains_key("crit") {
        return Err(TokenError::Malformed("unsupported critical header"));
    }
    if header.contains_key("b64") {
        return Err(TokenError::Malformed("unencoded payload not supported"));
    }
    let typ = match header.get("typ") {
        None => None,
        Some(Value::String(t))
            if t.eq_ignore_ascii_case("jwt") || t.to_ascii_lowercase().ends_with("+jwt") =>
        {
            Some(t.clone())
        }
        Some(_) => return Err(TokenError::Malformed("typ is not a JWT type")),
    };
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) if k.len() <= MAX_KID_LEN => Some(k.clone()),
        Some(_) => return Err(TokenError::Malformed("kid is not a short string")),
    };
    Ok((alg, kid, typ))
}

fn check_claim_types(payload: &Map<String, Value>) -> Result<(), TokenError> {
    for date in ["exp", "nbf", "iat"] {
        match payload.get(date) {
            None => {}
            Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v <= MAX_NUMERIC_DATE) => {}
            Some(_) => return Err(TokenError::Claims("exp, nbf and iat must be integer dates")),
        }
    }
    for text in ["iss", "sub", "jti", "scope", "nonce"] {
        if payload.get(text).is_some_and(|v| !v.is_string()) {
            return Err(TokenError::Claims(
                "iss, sub, jti and scope must be strings",
            ));
        }
    }
    match payload.get("aud") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => {
            return Err(TokenError::Claims(
                "aud must be a string or array of strings",
            ))
        }
    }
    match payload.get("permissions") {
        None => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => {
            return Err(TokenError::Claims(
                "permissions must be an array of strings",
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkeys::{compact, sign_rs256};

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
}
