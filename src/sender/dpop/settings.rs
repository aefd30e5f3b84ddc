//! The DPoP configuration: the provider option `dpop` and the top-level options
//! `dpop_origin`, `dpop_proof_window_s`, `dpop_nonce` and `dpop_nonce_secrets_env`,
//! validated with the field named.

use super::htu::Origin;
use super::secrets::{NonceSecrets, SecretsError, KEY as SECRETS_KEY};
use crate::config::choice::choice;
use crate::config::error::ConfigError;

choice! {
    /// Which `Authorization` schemes a provider's tokens may use.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum DpopMode {
        /// `Bearer` for unbound tokens, `DPoP` with a proof for bound ones (the default).
        #[default]
        Allowed = "allowed",
        /// Only `DPoP` with a proof, for DPoP-bound tokens.
        Required = "required",
        /// The `DPoP` scheme is refused (bound tokens are then refused altogether).
        Off = "off",
    }
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
    /// `dpop_nonce_secrets_env`: the environment variable holding the nonce secrets the
    /// fleet shares (without it, nonces use a secret of this process).
    pub nonce_secrets_env: Option<String>,
    /// The secrets read from that variable, once the configuration is in place
    /// ([`Settings::read_nonce_secrets`]).
    pub nonce_secrets: Option<NonceSecrets>,
}

/// Longest environment variable name `dpop_nonce_secrets_env` may give.
const MAX_ENV_NAME: usize = 256;

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            origin: None,
            proof_window_s: DEFAULT_PROOF_WINDOW_S,
            nonce: false,
            nonce_secrets_env: None,
            nonce_secrets: None,
        }
    }
}

impl Settings {
    /// Validates the raw top-level values.
    pub fn from_raw(
        origin: Option<&str>,
        proof_window_s: Option<u64>,
        nonce: Option<bool>,
        nonce_secrets_env: Option<String>,
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
        if let Some(name) = &nonce_secrets_env {
            let valid = !name.is_empty()
                && name.len() <= MAX_ENV_NAME
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(ConfigError::invalid(
                    SECRETS_KEY,
                    "must name an environment variable: 1 to 256 of A-Z, a-z, 0-9, _",
                ));
            }
        }
        Ok(Settings {
            origin,
            proof_window_s,
            nonce: nonce.unwrap_or(false),
            nonce_secrets_env,
            nonce_secrets: None,
        })
    }

    /// Reads the nonce secrets from the variable `dpop_nonce_secrets_env` names, through
    /// `env` (the VM's environment). Without the key nothing is read and, when `dpop_nonce`
    /// is on, the nonces stay valid in this process only (the caller warns).
    pub fn read_nonce_secrets(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), SecretsError> {
        if let Some(name) = &self.nonce_secrets_env {
            self.nonce_secrets = Some(NonceSecrets::parse(name, env(name).as_deref())?);
        }
        Ok(())
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
            Settings::from_raw(None, None, None, None),
            Ok(Settings::default())
        );
        let s = Settings::from_raw(
            Some("https://API.example.com:443"),
            Some(30),
            Some(true),
            None,
        )
        .unwrap();
        assert_eq!(s.origin.unwrap().as_str(), "https://api.example.com");
        assert_eq!((s.proof_window_s, s.nonce), (30, true));
        assert_eq!(
            Settings::from_raw(None, Some(0), None, None)
                .unwrap_err()
                .field,
            "dpop_proof_window_s"
        );
        assert_eq!(
            Settings::from_raw(None, Some(601), None, None)
                .unwrap_err()
                .field,
            "dpop_proof_window_s"
        );
        for bad in [
            "api.example.com",
            "https://api.example.com/v1",
            "ftp://x",
            "https://",
        ] {
            let e = Settings::from_raw(Some(bad), None, None, None).unwrap_err();
            assert_eq!(e.field, "dpop_origin", "{bad}");
            assert!(e.to_string().contains(": dpop_origin: "), "{e}");
        }
    }

    #[test]
    fn nonce_secrets_env_names_a_variable_and_is_read_from_the_environment() {
        let with = |name: &str| Settings::from_raw(None, None, Some(true), Some(name.into()));
        let mut s = with("JWT_GUARD_DPOP_NONCE_SECRETS").unwrap();
        assert_eq!(s.nonce_secrets, None);
        for bad in ["", "A B", "A=B", "A,B", &"A".repeat(257)] {
            let e = with(bad).unwrap_err();
            assert_eq!(e.field, "dpop_nonce_secrets_env", "{bad:?}");
        }
        let secret = crate::b64::encode(&[7; 32]);
        let env = |name: &str| (name == "JWT_GUARD_DPOP_NONCE_SECRETS").then(|| secret.clone());
        s.read_nonce_secrets(&env).unwrap();
        assert_eq!(
            s.nonce_secrets.as_ref().map(|n| n.accepted().len()),
            Some(1)
        );
        let mut missing = with("OTHER").unwrap();
        let e = missing.read_nonce_secrets(&env).unwrap_err().to_string();
        assert!(
            e.starts_with("dpop_nonce_secrets_env: environment variable OTHER"),
            "{e}"
        );
        // Without the key nothing is read.
        let mut without = Settings::from_raw(None, None, Some(true), None).unwrap();
        without.read_nonce_secrets(&|_| panic!("read")).unwrap();
        assert_eq!(without.nonce_secrets, None);
    }
}
