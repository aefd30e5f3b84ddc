//! What a provider accepts beyond a valid signature: the token profile (`profile`: `any`, or
//! RFC 9068's JWT access-token profile) and the client the token was issued to (`clients`).

use crate::config::error::{invalid, ConfigError};
use crate::token::Claims;
use serde_json::Value;

/// Most entries in a provider's `clients`.
pub const MAX_CLIENTS: usize = 256;

/// The provider's `profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Any JWT with the claims jwt-guard needs (`iss`, `exp`, `aud`).
    #[default]
    Any,
    /// RFC 9068 §2: `typ` `at+jwt` and the claims `iss exp aud sub client_id iat jti`.
    Rfc9068,
}

/// Claims RFC 9068 §2.2 requires of a JWT access token.
const RFC9068_CLAIMS: [&str; 7] = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"];

impl Profile {
    /// Parses the `profile` key (`None`: `any`); `at` names the provider.
    pub fn parse(raw: Option<&str>, at: &str) -> Result<Profile, ConfigError> {
        match raw {
            None | Some("any") => Ok(Profile::Any),
            Some("rfc9068") => Ok(Profile::Rfc9068),
            Some(other) => invalid(
                format!("{at}.profile"),
                format!("{other:?} is not one of any, rfc9068"),
            ),
        }
    }

    /// Checks a token's header `typ` and claims against the profile; the error describes
    /// what is missing (never a value).
    pub fn check(self, typ: Option<&str>, claims: &Claims) -> Result<(), &'static str> {
        if self == Profile::Any {
            return Ok(());
        }
        // RFC 9068 §2.1 / §4: "at+jwt", or its full media type, compared case-insensitively.
        let typ_ok = typ.is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err("not an RFC 9068 access token: typ must be at+jwt");
        }
        let present = |name: &str| match name {
            "iss" => claims.issuer.is_some(),
            "exp" => claims.expires_at.is_some(),
            "aud" => claims.audiences.is_some(),
            "sub" => claims.subject.is_some(),
            "iat" => claims.issued_at.is_some(),
            "jti" => claims.jwt_id.is_some(),
            other => claims.custom.get(other).is_some_and(Value::is_string),
        };
        match RFC9068_CLAIMS.iter().find(|c| !present(c)) {
            None => Ok(()),
            Some(&"sub") => Err("not an RFC 9068 access token: sub is missing"),
            Some(&"client_id") => Err("not an RFC 9068 access token: client_id is missing"),
            Some(&"iat") => Err("not an RFC 9068 access token: iat is missing"),
            Some(&"jti") => Err("not an RFC 9068 access token: jti is missing"),
            Some(_) => Err("not an RFC 9068 access token: iss, exp and aud are required"),
        }
    }
}

/// Validates a provider's `clients` (`None`: any client); `at` names the provider.
pub fn clients_from_raw(raw: Option<Vec<String>>, at: &str) -> Result<Vec<String>, ConfigError> {
    let Some(clients) = raw else {
        return Ok(Vec::new());
    };
    if clients.is_empty() || clients.len() > MAX_CLIENTS {
        return invalid(
            format!("{at}.clients"),
            format!("give 1-{MAX_CLIENTS} client ids (or leave clients out)"),
        );
    }
    if let Some(bad) = clients
        .iter()
        .find(|c| c.is_empty() || c.len() > 256 || c.chars().any(char::is_control))
    {
        return invalid(
            format!("{at}.clients"),
            format!("{bad:?} is not a client id"),
        );
    }
    Ok(clients)
}

/// Whether the token was issued to an accepted client: with `clients` configured, `azp`
/// and RFC 9068's `client_id` must each, where present, be listed, and one must be present.
pub fn client_accepted(clients: &[String], claims: &Claims) -> bool {
    if clients.is_empty() {
        return true;
    }
    let mut seen = false;
    for name in ["azp", "client_id"] {
        match claims.custom.get(name) {
            None => {}
            Some(Value::String(id)) if clients.contains(id) => seen = true,
            Some(_) => return false,
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Claims {
        serde_json::from_value(v).unwrap()
    }

    fn full() -> serde_json::Value {
        json!({"iss": "https://op/", "exp": 2000000000, "aud": "https://api", "sub": "spa",
               "client_id": "spa", "iat": 1900000000, "jti": "abc"})
    }

    #[test]
    fn rfc9068_requires_typ_and_claims() {
        let p = Profile::Rfc9068;
        let c = claims(full());
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/AT+JWT",
        ] {
            assert_eq!(p.check(Some(typ), &c), Ok(()), "{typ}");
        }
        for typ in [None, Some("JWT"), Some("at+jwt; charset=x"), Some("jwt+at")] {
            assert!(p.check(typ, &c).unwrap_err().contains("typ"), "{typ:?}");
        }
        for (claim, why) in [
            ("iss", "iss, exp and aud"),
            ("exp", "iss, exp and aud"),
            ("aud", "iss, exp and aud"),
            ("sub", "sub is missing"),
            ("client_id", "client_id is missing"),
            ("iat", "iat is missing"),
            ("jti", "jti is missing"),
        ] {
            let mut v = full();
            v.as_object_mut().unwrap().remove(claim);
            let err = p.check(Some("at+jwt"), &claims(v)).unwrap_err();
            assert!(err.contains(why), "{claim}: {err}");
        }
        let mut numeric_client = full();
        numeric_client["client_id"] = json!(7);
        assert!(p.check(Some("at+jwt"), &claims(numeric_client)).is_err());
        // The default profile stays as before: nothing more required.
        assert_eq!(Profile::Any.check(None, &claims(json!({}))), Ok(()));
    }

    #[test]
    fn profile_key_is_checked() {
        assert_eq!(Profile::parse(None, "p"), Ok(Profile::Any));
        assert_eq!(Profile::parse(Some("rfc9068"), "p"), Ok(Profile::Rfc9068));
        assert!(Profile::parse(Some("RFC9068"), "providers[p]")
            .unwrap_err()
            .field
            .starts_with("providers[p].profile"));
    }

    #[test]
    fn clients_by_azp_or_client_id() {
        let clients = clients_from_raw(Some(vec!["spa".into(), "cli".into()]), "p").unwrap();
        let ok = |v| client_accepted(&clients, &claims(v));
        assert!(ok(json!({"azp": "spa"})));
        assert!(ok(json!({"client_id": "cli"})));
        assert!(ok(json!({"azp": "spa", "client_id": "spa"})));
        assert!(!ok(json!({"azp": "other"})));
        assert!(!ok(json!({"azp": "spa", "client_id": "other"})));
        assert!(!ok(json!({"azp": ["spa"]})));
        assert!(!ok(json!({"sub": "spa"})));
        assert!(client_accepted(&[], &claims(json!({}))));
    }

    #[test]
    fn clients_key_is_checked() {
        assert_eq!(clients_from_raw(None, "p"), Ok(vec![]));
        for bad in [vec![], vec![String::new()], vec!["a\nb".to_string()]] {
            let e = clients_from_raw(Some(bad), "providers[p]").unwrap_err();
            assert_eq!(e.field, "providers[p].clients", "{e}");
        }
    }
}
