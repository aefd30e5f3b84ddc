//! The JWS algorithms jwt-guard accepts: asymmetric only, named exactly as in RFC 7518.

use std::fmt;

/// An asymmetric JWS signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

/// The family of public key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl Algorithm {
    /// Every algorithm jwt-guard can verify, the default allow-list.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    /// Parses an `alg` value exactly (case-sensitive); `None` for anything unsupported.
    pub fn parse(name: &str) -> Option<Algorithm> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The registered JWS name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// The key family this algorithm is bound to.
    pub fn family(self) -> KeyFamily {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyFamily::Rsa,
            Algorithm::ES256 => KeyFamily::P256,
            Algorithm::ES384 => KeyFamily::P384,
            Algorithm::EdDSA => KeyFamily::Ed25519,
        }
    }
}

impl KeyFamily {
    /// The one algorithm a key of this family serves when its JWK has no `alg`.
    pub fn default_algorithm(self) -> Algorithm {
        match self {
            KeyFamily::Rsa => Algorithm::RS256,
            KeyFamily::P256 => Algorithm::ES256,
            KeyFamily::P384 => Algorithm::ES384,
            KeyFamily::Ed25519 => Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_names_only() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::parse(alg.name()), Some(alg));
        }
        for bad in [
            "none", "None", "HS256", "rs256", "RS256 ", "ES256K", "", "Ed25519",
        ] {
            assert_eq!(Algorithm::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn binds_algorithms_to_key_families() {
        assert_eq!(Algorithm::PS384.family(), KeyFamily::Rsa);
        assert_eq!(Algorithm::ES256.family(), KeyFamily::P256);
        assert_eq!(Algorithm::ES384.family(), KeyFamily::P384);
        assert_eq!(Algorithm::EdDSA.family(), KeyFamily::Ed25519);
        for family in [
            KeyFamily::Rsa,
            KeyFamily::P256,
            KeyFamily::P384,
            KeyFamily::Ed25519,
        ] {
            assert_eq!(family.default_algorithm().family(), family);
        }
        assert_eq!(KeyFamily::Rsa.default_algorithm(), Algorithm::RS256);
    }
}
