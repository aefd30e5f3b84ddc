//! The DPoP configuration: the provider option `dpop` and the top-level options
//! `dpop_origin`, `dpop_proof_window_s` and `dpop_nonce`, validated with the field named.

use super::htu::Origin;
use crate::config::error::ConfigError;
use serde::Deserialize;

/// Which `Authorization` schemes a provider's tokens may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DpopMode {
    /// `Bearer` for unbound tokens, `DPoP` with a proof for bound ones (the default).
    #[default]
    Allowed,
    /// Only `DPoP` with a proof, for DPoP-bound tokens.
    Required,
    /// The `DPoP` scheme is refused (bound tokens are then refused altogether).
    Off,
}

impl DpopMode {
    /// Whether `Authorization: Bearer` may be accepted.
    pub fn accepts_bearer(self) -> bool {
        self != DpopMode::Required
    }

    /// Whether `Authorization: DPoP` may be accepted.
    pub fn accepts_dpop(self) -> bool {
        self != DpopMode::Off
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
    ) -> Result<Settings, ConfigError> {
        let origin = origin
            .map(|o| Origin::parse(o).map_err(|why| ConfigError::invalid("dpop_origin", why)))
            .transpose()?;
        let proof_window_s = proof_window_s.unwrap_or(DEFAULT_PROOF_WINDOW_S);
        if !(1..=MAX_PROOF_WINDOW_S).contains(&proof_window_s) {
            return Err(ConfigError::invalid(
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
        let m = |s: &str| serde_json::from_str::<DpopMode>(s);
        assert_eq!(m(r#""allowed""#).unwrap(), DpopMode::Allowed);
        assert_eq!(m(r#""required""#).unwrap(), DpopMode::Required);
        assert_eq!(m(r#""off""#).unwrap(), DpopMode::Off);
        assert!(m(r#""Required""#).is_err());
        assert!(m("true").is_err());
        assert_eq!(DpopMode::default(), DpopMode::Allowed);
        assert!(!DpopMode::Required.accepts_bearer() && DpopMode::Required.accepts_dpop());
        assert!(DpopMode::Off.accepts_bearer() && !DpopMode::Off.accepts_dpop());
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
            assert!(e.to_string().contains(": dpop_origin: "), "{e}");
        }
    }
}
