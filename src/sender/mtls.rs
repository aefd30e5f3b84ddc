//! Certificate-bound access tokens (RFC 8705 §3): a token with `cnf["x5t#S256"]` is accepted
//! only on a connection whose client certificate has that SHA-256 thumbprint. Envoy gives
//! the digest of the downstream peer certificate as the connection property
//! [`PEER_DIGEST_PROPERTY`], in hex; the claim is base64url of the same 32 bytes.

use crate::b64;
use crate::sender::constant_time_eq;

/// `connection.sha256_peer_certificate_digest`: hex SHA-256 of the client certificate's DER.
pub const PEER_DIGEST_PROPERTY: [&str; 2] = ["connection", "sha256_peer_certificate_digest"];

/// The connection's client-certificate digest (hex), read from the host only when a
/// token bound to a certificate asks for it (most requests never do).
pub trait PeerCertificate: std::fmt::Debug {
    /// The digest, if the connection has a client certificate.
    fn digest(&self) -> Option<&str>;
}

impl PeerCertificate for Option<String> {
    fn digest(&self) -> Option<&str> {
        self.as_deref()
    }
}

impl PeerCertificate for Option<&str> {
    fn digest(&self) -> Option<&str> {
        *self
    }
}

/// A connection without a client certificate.
pub const NO_CERTIFICATE: Option<&str> = None;

/// Why a certificate-bound token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum BindingError {
    /// No client certificate on the connection.
    #[error("token bound to a client certificate, none presented")]
    NoCertificate,
    /// Another client certificate.
    #[error("token bound to another certificate")]
    OtherCertificate,
}

impl BindingError {
    /// The metric suffix.
    pub fn reason(self) -> &'static str {
        match self {
            BindingError::NoCertificate => "mtls_no_certificate",
            BindingError::OtherCertificate => "mtls_other_certificate",
        }
    }
}

/// base64url of the digest Envoy reports in hex; `None` if it is not a SHA-256 in hex.
pub fn thumbprint_of_hex(hex: &str) -> Option<String> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let bytes = hex
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let digit = |b: &u8| char::from(*b).to_digit(16);
            Some((digit(pair.first()?)? * 16 + digit(pair.get(1)?)?) as u8)
        })
        .collect::<Option<Vec<u8>>>()?;
    Some(b64::encode(&bytes))
}

/// Checks the token's `x5t#S256` against the connection's certificate digest (hex).
pub fn check(x5t_s256: &str, peer_digest_hex: Option<&str>) -> Result<(), BindingError> {
    let presented = peer_digest_hex
        .filter(|h| !h.is_empty())
        .ok_or(BindingError::NoCertificate)?;
    match thumbprint_of_hex(presented) {
        Some(t) if constant_time_eq(&t, x5t_s256) => Ok(()),
        _ => Err(BindingError::OtherCertificate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SHA-256 of the empty string, in both forms.
    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const B64: &str = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";

    #[test]
    fn converts_hex_digests() {
        assert_eq!(thumbprint_of_hex(HEX).as_deref(), Some(B64));
        assert_eq!(thumbprint_of_hex(&HEX.to_uppercase()).as_deref(), Some(B64));
        for bad in ["", "e3b0", &HEX.replace('e', "g"), &format!("{HEX}00")] {
            assert_eq!(thumbprint_of_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_certificate_must_match() {
        assert_eq!(check(B64, Some(HEX)), Ok(()));
        assert_eq!(check(B64, None), Err(BindingError::NoCertificate));
        assert_eq!(check(B64, Some("")), Err(BindingError::NoCertificate));
        let other = HEX.replace("e3b0", "e3b1");
        assert_eq!(
            check(B64, Some(&other)),
            Err(BindingError::OtherCertificate)
        );
        assert_eq!(check(B64, Some("zz")), Err(BindingError::OtherCertificate));
        // Padding or standard base64 in the claim does not match.
        assert_eq!(
            check(&format!("{B64}="), Some(HEX)),
            Err(BindingError::OtherCertificate)
        );
    }
}
