//! The DPoP nonce secrets a fleet shares (`dpop_nonce_secrets_env`): the value of the
//! environment variable that key names, a comma-separated list of base64url secrets of at
//! least [`MIN_SECRET_BYTES`] bytes. The first secret issues nonces and every listed one is
//! accepted, so a rolling update rotates them in three steps (`old,new`, `new,old`, `new`)
//! with replicas on adjacent steps agreeing. Errors name the key, the variable and a
//! secret's position, never a secret's value.

use crate::b64;

/// The configuration key naming the variable.
pub const KEY: &str = "dpop_nonce_secrets_env";
/// Fewest bytes one secret may decode to.
pub const MIN_SECRET_BYTES: usize = 32;
/// Most secrets one variable may list (a rotation needs two).
pub const MAX_SECRETS: usize = 4;
/// Longest value read from the variable.
pub const MAX_VALUE_BYTES: usize = 4096;
/// Domain separation for the nonce MAC keys derived from the secrets.
const DERIVE_CONTEXT: &str = "jwt-guard dpop nonce secret v1";

/// Why the variable does not hold usable secrets. Displays name the key and the variable
/// and, for one bad secret, its position; never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// The variable is not in the VM's environment (or is not UTF-8).
    #[error("{KEY}: environment variable {0} is not set in the VM (pass it with vm_config.environment_variables)")]
    Missing(String),
    /// The variable is set but holds nothing.
    #[error("{KEY}: environment variable {0} is empty")]
    Empty(String),
    /// The value is longer than [`MAX_VALUE_BYTES`].
    #[error("{KEY}: environment variable {0} is longer than {MAX_VALUE_BYTES} bytes")]
    TooLong(String),
    /// More than [`MAX_SECRETS`] secrets.
    #[error("{KEY}: environment variable {var} lists {count} secrets; at most {MAX_SECRETS}")]
    TooMany {
        /// The variable.
        var: String,
        /// How many it lists.
        count: usize,
    },
    /// One secret is not base64url.
    #[error("{KEY}: environment variable {var}: secret {position} of {count} is not base64url")]
    Undecodable {
        /// The variable.
        var: String,
        /// 1-based position in the list.
        position: usize,
        /// How many the list has.
        count: usize,
    },
    /// One secret is shorter than [`MIN_SECRET_BYTES`].
    #[error("{KEY}: environment variable {var}: secret {position} of {count} is {bytes} bytes; at least {MIN_SECRET_BYTES}")]
    Short {
        /// The variable.
        var: String,
        /// 1-based position in the list.
        position: usize,
        /// How many the list has.
        count: usize,
        /// Its decoded length.
        bytes: usize,
    },
}

/// The nonce MAC keys derived from the listed secrets, the issuing one first.
#[derive(Clone, PartialEq, Eq)]
pub struct NonceSecrets {
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for NonceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NonceSecrets({} secrets)", self.keys.len())
    }
}

/// One listed secret as bytes: surrounding whitespace (a Secret file's newline) and
/// base64 padding are tolerated, anything else must be canonical base64url.
fn decode_one(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_ascii();
    let unpadded = text.strip_suffix("==").or_else(|| text.strip_suffix('='));
    b64::decode(unpadded.unwrap_or(text).as_bytes())
}

impl NonceSecrets {
    /// Parses `value`, the content of environment variable `var` (`None`: not set).
    pub fn parse(var: &str, value: Option<&str>) -> Result<NonceSecrets, SecretsError> {
        let value = value.ok_or_else(|| SecretsError::Missing(var.to_string()))?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(SecretsError::TooLong(var.to_string()));
        }
        if value.trim_ascii().is_empty() {
            return Err(SecretsError::Empty(var.to_string()));
        }
        let parts: Vec<&str> = value.split(',').collect();
        let count = parts.len();
        if count > MAX_SECRETS {
            return Err(SecretsError::TooMany {
                var: var.to_string(),
                count,
            });
        }
        let keys = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let position = i + 1;
                let bytes = decode_one(part).ok_or_else(|| SecretsError::Undecodable {
                    var: var.to_string(),
                    position,
                    count,
                })?;
                if bytes.len() < MIN_SECRET_BYTES {
                    return Err(SecretsError::Short {
                        var: var.to_string(),
                        position,
                        count,
                        bytes: bytes.len(),
                    });
                }
                Ok(blake3::derive_key(DERIVE_CONTEXT, &bytes))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NonceSecrets { keys })
    }

    /// The key new nonces are issued under (the first secret's).
    pub fn issuing(&self) -> [u8; 32] {
        self.keys.first().copied().unwrap_or([0; 32])
    }

    /// Every key a nonce is accepted under, the issuing one first.
    pub fn accepted(&self) -> &[[u8; 32]] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAR: &str = "JWT_GUARD_DPOP_NONCE_SECRETS";

    fn secret(fill: u8, len: usize) -> String {
        b64::encode(&vec![fill; len])
    }

    #[test]
    fn first_issues_and_all_are_accepted_in_order() {
        let value = format!("{},{}", secret(1, 32), secret(2, 48));
        let s = NonceSecrets::parse(VAR, Some(&value)).unwrap();
        assert_eq!(s.accepted().len(), 2);
        assert_eq!(s.issuing(), s.accepted()[0]);
        let swapped =
            NonceSecrets::parse(VAR, Some(&format!("{},{}", secret(2, 48), secret(1, 32))));
        assert_eq!(swapped.unwrap().accepted()[1], s.issuing());
        // The MAC key is derived, not the secret itself.
        assert_ne!(s.issuing(), [1; 32]);
    }

    #[test]
    fn newline_spaces_and_padding_are_tolerated() {
        let plain = NonceSecrets::parse(VAR, Some(&secret(3, 32))).unwrap();
        let padded = format!(" {}=\n", secret(3, 32));
        assert_eq!(NonceSecrets::parse(VAR, Some(&padded)).unwrap(), plain);
    }

    #[test]
    fn errors_name_key_variable_and_position_never_the_value() {
        let short = secret(4, 31);
        let good = secret(5, 32);
        let cases: Vec<(Option<String>, &str)> = vec![
            (None, "is not set"),
            (Some(String::new()), "is empty"),
            (Some(" \n".into()), "is empty"),
            (
                Some(short.clone()),
                "secret 1 of 1 is 31 bytes; at least 32",
            ),
            (Some(format!("{good},{short}")), "secret 2 of 2 is 31 bytes"),
            (Some(format!("{good},")), "secret 2 of 2 is 0 bytes"),
            (
                Some(format!("{good},{good}+x")),
                "secret 2 of 2 is not base64url",
            ),
            (
                Some(format!("{good},!!{good}")),
                "secret 2 of 2 is not base64url",
            ),
            (
                Some([good.as_str(); 5].join(",")),
                "lists 5 secrets; at most 4",
            ),
            (
                Some("A".repeat(MAX_VALUE_BYTES + 1)),
                "longer than 4096 bytes",
            ),
        ];
        for (value, expected) in cases {
            let e = NonceSecrets::parse(VAR, value.as_deref())
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("{KEY}: environment variable {VAR}")),
                "{e}"
            );
            assert!(e.contains(expected), "{e} lacks {expected}");
            assert!(
                !e.contains(&good) && !e.contains(&short),
                "{e} shows a secret"
            );
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let s = NonceSecrets::parse(VAR, Some(&secret(6, 32))).unwrap();
        assert_eq!(format!("{s:?}"), "NonceSecrets(1 secrets)");
    }
}
