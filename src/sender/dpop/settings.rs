//! The DPoP configuration: the provider option `dpop` and the top-level options
//! `dpop_origin`, `dpop_proof_window_s` and `dpop_nonce`, validated with the field named.

use super::htu::Origin;
use serde::Deserialize;

/// A configuration error naming its field (`providers[0].dpop`, `dpop_origin`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The offending field, as written in the configuration.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// An error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Which `Authorization` schemes a provider's tokens may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `Bearer` for unbound tokens, `DPoP` with a proof for bound ones (the default).
    #[default]
    Allowed,
    /// Only `DPoP` with a proof, for DPoP-bound tokens.
    Required,
    /// The `DPoP` scheme is refused (bound tokens are then refused altogether).
    Off,
}

impl Mode {
    /// Whether `Authorization: Bearer` may be accepted.
    pub fn accepts_bearer(self) -> bool {
        self != Mode::Required
    }

    /// Whether `Authorization: DPoP` may be accepted.
    pub fn accepts_dpop(self) -> bool {
        self != Mode::Off
    }
}

/// Default `dpop_proof_window_s`: how old a proof's `iat` may be.
pub const DEFAULT_PROOF_WINDOW_S: u64 = 60;
/// Largest `dpop_proof_window_s` (the replay store must remember proofs this long).
pub const MAX_PROOF_WINDOW_S: u64 = 600;

/// The validated top-level DPoP options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `dpop_origin`: the origin clients address when TLS ends before Envoy.
    pub origin: Option<Origin>,
    /// `dpop_proof_window_s`.
    pub proof_window_s: u64,
    /// `dpop_nonce`: issue `DPoP-Nonce` values and require them in proofs.
    pub nonce: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            origin: None,
            proof_window_s: DEFAULT_PROOF_WINDOW_S,
            nonce: false,
        }
    }
}

impl Settings {
    /// Validates the raw top-level values.
    pub fn from_raw(
        origin: Option<&str>,
        proof_window_s: Option<u64>,
        nonce: Option<bool>,
    ) -> Result<Settings, FieldError> {
        let origin = origin
            .map(|o| Origin::parse(o).map_err(|why| FieldError::new("dpop_origin", why)))
            .transpose()?;
        let proof_window_s = proof_window_s.unwrap_or(DEFAULT_PROOF_WINDOW_S);
        if !(1..=MAX_PROOF_WINDOW_S).contains(&proof_window_s) {
            return Err(FieldError::new(
                "dpop_proof_window_s",
                format!("must be between 1 and {MAX_PROOF_WINDOW_S} seconds"),
            ));
        }
        Ok(Settings {
            origin,
            proof_window_s,
            nonce: nonce.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_parses_exact_names_and_defaults_to_allowed() {
        let m = |s: &str| serde_json::from_str::<Mode>(s);
        assert_eq!(m(r#""allowed""#).unwrap(), Mode::Allowed);
        assert_eq!(m(r#""required""#).unwrap(), Mode::Required);
        assert_eq!(m(r#""off""#).unwrap(), Mode::Off);
        assert!(m(r#""Required""#).is_err());
        assert!(m("true").is_err());
        assert_eq!(Mode::default(), Mode::Allowed);
        assert!(!Mode::Required.accepts_bearer() && Mode::Required.accepts_dpop());
        assert!(Mode::Off.accepts_bearer() && !Mode::Off.accepts_dpop());
    }

    #[test]
    fn settings_default_and_name_their_field() {
        assert_eq!(
            Settings::from_raw(None, None, None),
            Ok(Settings::default())
        );
        let s =
            Settings::from_raw(Some("https://API.example.com:443"), Some(30), Some(true)).unwrap();
        assert_eq!(s.origin.unwrap().as_str(), "https://api.example.com");
        assert_eq!((s.proof_window_s, s.nonce), (30, true));
        assert_eq!(
            Settings::from_raw(None, Some(0), None).unwrap_err().field,
            "dpop_proof_window_s"
        );
        assert_eq!(
            Settings::from_raw(None, Some(601), None).unwrap_err().field,
            "dpop_proof_window_s"
        );
        for bad in [
            "api.example.com",
            "https://api.example.com/v1",
            "ftp://x",
            "https://",
        ] {
            let e = Settings::from_raw(Some(bad), None, None).unwrap_err();
            assert_eq!(e.field, "dpop_origin", "{bad}");
            assert!(e.to_string().starts_with("dpop_origin: "), "{e}");
        }
    }
}
