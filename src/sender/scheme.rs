//! Which scheme carries the token (`Bearer` or `DPoP`, RFC 9449 §7.1), and whether the
//! provider's `dpop` mode admits it with what the token is bound to ([`Confirmation`]).
//! A bound token is never accepted as a plain bearer token: the binding is the point.

use super::cnf::Confirmation;
use super::dpop::settings::DpopMode;
use crate::token::{self, Credentials};

/// The scheme a token was presented with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer` (RFC 6750).
    Bearer,
    /// `Authorization: DPoP` (RFC 9449 §7.1).
    Dpop,
}

/// What the `Authorization` header(s) of a request carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No token in a scheme jwt-guard reads.
    None,
    /// A syntactically valid token and its scheme.
    Token(Scheme, &'a str),
    /// Several `Authorization` headers, or a malformed token.
    Invalid(&'static str),
}

/// Reads `Authorization: Bearer <token>` or `Authorization: DPoP <token>`.
pub fn extract<'a>(authorization: &[&'a str]) -> Presented<'a> {
    match token::extract(authorization) {
        Credentials::Bearer(t) => return Presented::Token(Scheme::Bearer, t),
        Credentials::Invalid(why) => return Presented::Invalid(why),
        Credentials::None => {}
    }
    let [value] = authorization else {
        return Presented::None;
    };
    // A comma-joined value carrying a DPoP credential was refused by `token::extract`.
    let value = value.trim_matches([' ', '\t']);
    let Some((scheme, rest)) = value.split_once([' ', '\t']) else {
        return if value.eq_ignore_ascii_case("dpop") {
            Presented::Invalid("empty DPoP token")
        } else {
            Presented::None
        };
    };
    if !scheme.eq_ignore_ascii_case("dpop") {
        return Presented::None;
    }
    let token = rest.trim_start_matches([' ', '\t']);
    // RFC 9449 §7.1: token68, the same grammar as a bearer b64token.
    if token::is_b64token(token) {
        Presented::Token(Scheme::Dpop, token)
    } else {
        Presented::Invalid("malformed DPoP token")
    }
}

/// Why the scheme and the token do not go together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SchemeError {
    /// A DPoP-bound token sent as `Bearer`.
    #[error("DPoP-bound token presented as a bearer token")]
    BoundAsBearer,
    /// The provider accepts only DPoP-bound tokens.
    #[error("this issuer requires DPoP-bound tokens")]
    DpopRequired,
    /// The provider does not accept the DPoP scheme.
    #[error("DPoP is not accepted for this issuer")]
    DpopOff,
    /// The DPoP scheme with a token that has no `cnf.jkt`.
    #[error("token is not DPoP-bound")]
    Unbound,
}

impl SchemeError {
    /// The metric suffix.
    pub fn reason(self) -> &'static str {
        match self {
            SchemeError::BoundAsBearer => "dpop_bound_as_bearer",
            SchemeError::DpopRequired => "dpop_required",
            SchemeError::DpopOff => "dpop_off",
            SchemeError::Unbound => "dpop_unbound_token",
        }
    }
}

/// Whether `mode` admits a token bound as `cnf` presented with `scheme`; on success,
/// the thumbprint a proof must match (`None`: no proof is checked).
pub fn admit(
    mode: DpopMode,
    scheme: Scheme,
    cnf: &Confirmation,
) -> Result<Option<&str>, SchemeError> {
    match scheme {
        Scheme::Bearer if cnf.jkt.is_some() => Err(SchemeError::BoundAsBearer),
        Scheme::Bearer if !mode.accepts_bearer() => Err(SchemeError::DpopRequired),
        Scheme::Bearer => Ok(None),
        Scheme::Dpop if !mode.accepts_dpop() => Err(SchemeError::DpopOff),
        Scheme::Dpop => cnf.jkt.as_deref().map(Some).ok_or(SchemeError::Unbound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_schemes() {
        assert_eq!(
            extract(&["Bearer a.b.c"]),
            Presented::Token(Scheme::Bearer, "a.b.c")
        );
        assert_eq!(
            extract(&["DPoP a.b.c"]),
            Presented::Token(Scheme::Dpop, "a.b.c")
        );
        assert_eq!(
            extract(&["dpop \t a.b.c "]),
            Presented::Token(Scheme::Dpop, "a.b.c")
        );
        assert_eq!(extract(&[]), Presented::None);
        assert_eq!(extract(&["Basic eA=="]), Presented::None);
        assert_eq!(extract(&["DPoPa.b.c"]), Presented::None);
        assert_eq!(extract(&["Digest a=b, c=d"]), Presented::None);
        for bad in [
            &["DPoP"][..],
            &["DPoP a b"],
            &["DPoP a\"b"],
            &["DPoP x", "DPoP y"],
            &["Basic eA==,DPoP a.b.c"],
            &["Basic eA==, dpop a.b.c"],
            &["DPoP a.b.c,Basic eA=="],
        ] {
            assert!(matches!(extract(bad), Presented::Invalid(_)), "{bad:?}");
        }
    }

    #[test]
    fn modes_admit_schemes() {
        let bound = Confirmation {
            jkt: Some("t".into()),
            x5t_s256: None,
        };
        let unbound = Confirmation::default();
        use DpopMode::*;
        use Scheme::*;
        for mode in [Allowed, Required, Off] {
            // A bound token as Bearer is refused whatever the mode.
            assert_eq!(admit(mode, Bearer, &bound), Err(SchemeError::BoundAsBearer));
        }
        assert_eq!(admit(Allowed, Bearer, &unbound), Ok(None));
        assert_eq!(admit(Allowed, Dpop, &bound), Ok(Some("t")));
        assert_eq!(admit(Allowed, Dpop, &unbound), Err(SchemeError::Unbound));
        assert_eq!(
            admit(Required, Bearer, &unbound),
            Err(SchemeError::DpopRequired)
        );
        assert_eq!(admit(Required, Dpop, &bound), Ok(Some("t")));
        assert_eq!(admit(Required, Dpop, &unbound), Err(SchemeError::Unbound));
        assert_eq!(admit(Off, Bearer, &unbound), Ok(None));
        assert_eq!(admit(Off, Dpop, &bound), Err(SchemeError::DpopOff));
    }
}
