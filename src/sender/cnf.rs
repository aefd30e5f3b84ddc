//! What a token is bound to: its confirmation claim `cnf` (RFC 7800), `jkt` for DPoP
//! (RFC 9449 §6) and `x5t#S256` for mTLS (RFC 8705 §3.1).

use crate::token::Claims;
use serde_json::Value;

/// A token's confirmation claim (`cnf`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmation {
    /// `cnf.jkt`: the thumbprint of the DPoP key the token is bound to.
    pub jkt: Option<String>,
    /// `cnf["x5t#S256"]`: the client certificate the token is bound to.
    pub x5t_s256: Option<String>,
}

/// Longest `jkt` or `x5t#S256` value read (a SHA-256 in base64url is 43 characters).
const MAX_THUMBPRINT_LEN: usize = 128;

impl Confirmation {
    /// Reads `cnf` from verified claims; a `cnf` of the wrong shape is an error.
    pub fn of(claims: &Claims) -> Result<Confirmation, &'static str> {
        let cnf = match claims.custom.get("cnf") {
            None => return Ok(Confirmation::default()),
            Some(Value::Object(cnf)) => cnf,
            Some(_) => return Err("cnf is not an object"),
        };
        let member = |name: &str| match cnf.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_THUMBPRINT_LEN => {
                Ok(Some(s.clone()))
            }
            Some(_) => Err("cnf members must be short strings"),
        };
        Ok(Confirmation {
            jkt: member("jkt")?,
            x5t_s256: member("x5t#S256")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Claims {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_the_confirmation_claim() {
        assert_eq!(Confirmation::of(&claims("{}")), Ok(Confirmation::default()));
        let c = Confirmation::of(&claims(r#"{"cnf":{"jkt":"abc","x5t#S256":"def"}}"#)).unwrap();
        assert_eq!(c.jkt.as_deref(), Some("abc"));
        assert_eq!(c.x5t_s256.as_deref(), Some("def"));
        for bad in [
            r#"{"cnf":"abc"}"#,
            r#"{"cnf":{"jkt":5}}"#,
            r#"{"cnf":{"jkt":""}}"#,
            r#"{"cnf":{"x5t#S256":["a"]}}"#,
        ] {
            assert!(Confirmation::of(&claims(bad)).is_err(), "{bad}");
        }
        let long = format!(r#"{{"cnf":{{"jkt":"{}"}}}}"#, "a".repeat(129));
        assert!(Confirmation::of(&claims(&long)).is_err());
    }
}
