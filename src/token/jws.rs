//! Strict JWS compact parsing (RFC 7515 §7.1): sizes bounded, header and claims decoded and
//! type-checked, nothing trusted yet.

use super::error::TokenError;
use super::shape::Shape;
use crate::alg::Algorithm;
use crate::{b64, json};
use jwt_simple::claims::JWTClaims;
use serde_json::{Map, Value};

/// Claims beyond the registered ones, kept as JSON.
pub type Claims = JWTClaims<Map<String, Value>>;

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
    open(token, max_bytes)?.finish()
}

/// A compact JWS split into its segments with only the header decoded: what a caller
/// needs to judge before the rest (a DPoP proof's `typ`, `alg` and `jwk`).
#[derive(Debug)]
pub struct Opened<'a> {
    token: &'a str,
    header_b64: &'a str,
    payload_b64: &'a str,
    sig_b64: &'a str,
    /// The header's members.
    pub header: Map<String, Value>,
}

/// Bounds `token`'s size, splits it and decodes its header: the first half of [`parse`].
pub fn open(token: &str, max_bytes: usize) -> Result<Opened<'_>, TokenError> {
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
    Ok(Opened {
        token,
        header_b64,
        payload_b64,
        sig_b64,
        header,
    })
}

impl<'a> Opened<'a> {
    /// Checks the header and decodes the claims and signature: the second half of [`parse`].
    pub fn finish(self) -> Result<Jws<'a>, TokenError> {
        let Opened {
            token,
            header_b64,
            payload_b64,
            sig_b64,
            header,
        } = self;
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
