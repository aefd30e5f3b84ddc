//! A JWKS callout's answer, judged: a usable key set, or why not.

use crate::jwks::{JwksError, KeySet, MAX_JWKS_BYTES};
use thiserror::Error;

/// What the host received for a JWKS callout. The body is read only when it is wanted.
pub struct Answer<'a> {
    /// The `:status`, or `None` when there was no response (timeout, reset).
    pub status: Option<u16>,
    /// The `retry-after` header, if any.
    pub retry_after: Option<String>,
    /// Size of the body the host holds.
    pub body_size: usize,
    /// Copies the body out of the host.
    pub read_body: Box<dyn FnOnce() -> Option<Vec<u8>> + 'a>,
}

/// Why a fetch brought no usable keys.
#[derive(Debug, Error)]
pub enum FetchError {
    /// The callout could not be started.
    #[error("cannot call the JWKS cluster: {0}")]
    Dispatch(String),
    /// No response arrived.
    #[error("no response (timeout or connection failure)")]
    NoResponse,
    /// A status other than 200.
    #[error("HTTP status {0}")]
    Status(u16),
    /// A body over the size limit.
    #[error("body of {0} bytes exceeds {MAX_JWKS_BYTES}")]
    TooLarge(usize),
    /// An empty body.
    #[error("empty body")]
    Empty,
    /// A body that is not a usable JWKS.
    #[error(transparent)]
    Jwks(#[from] JwksError),
    /// No usable discovery document (and no last good one to fall back on).
    #[error("discovery failed: {0}")]
    Discovery(crate::discovery::DiscoveryError),
}

impl Answer<'_> {
    /// The delay a 429 or 503 answer asks for (`Retry-After` in delta-seconds).
    pub fn retry_after_ms(&self) -> Option<u64> {
        if !matches!(self.status, Some(429 | 503)) {
            return None;
        }
        let text = self.retry_after.as_deref()?.trim();
        if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse::<u64>().ok().map(|s| s.saturating_mul(1000))
    }
}

/// The key set of a successful answer (with its text, for sharing), parsed once by `parse`.
pub fn keys(
    answer: Answer<'_>,
    parse: impl FnOnce(&[u8]) -> Result<KeySet, JwksError>,
) -> Result<(Vec<u8>, KeySet), FetchError> {
    match answer.status {
        None => Err(FetchError::NoResponse),
        Some(200) if answer.body_size > MAX_JWKS_BYTES => {
            Err(FetchError::TooLarge(answer.body_size))
        }
        Some(200) => {
            let body = (answer.read_body)()
                .filter(|b| !b.is_empty())
                .ok_or(FetchError::Empty)?;
            let set = parse(&body)?;
            Ok((body, set))
        }
        Some(status) => Err(FetchError::Status(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(
        status: Option<u16>,
        retry_after: Option<&str>,
        body: &'static [u8],
    ) -> Answer<'static> {
        Answer {
            status,
            retry_after: retry_after.map(str::to_string),
            body_size: body.len(),
            read_body: Box::new(move || Some(body.to_vec())),
        }
    }

    #[test]
    fn retry_after_only_for_429_and_503_in_seconds() {
        assert_eq!(
            answer(Some(429), Some("7"), b"").retry_after_ms(),
            Some(7_000)
        );
        assert_eq!(
            answer(Some(503), Some(" 30 "), b"").retry_after_ms(),
            Some(30_000)
        );
        assert_eq!(answer(Some(500), Some("7"), b"").retry_after_ms(), None);
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(answer(Some(503), Some(date), b"").retry_after_ms(), None);
        assert_eq!(answer(Some(503), Some("-1"), b"").retry_after_ms(), None);
        assert_eq!(
            answer(Some(503), Some("99999999999"), b"").retry_after_ms(),
            None
        );
        assert_eq!(answer(Some(503), None, b"").retry_after_ms(), None);
    }

    #[test]
    fn only_a_200_with_a_usable_jwks_gives_keys() {
        let parse = |b: &[u8]| KeySet::parse(b, &[crate::alg::Algorithm::RS256]);
        let e = |a| keys(a, parse).unwrap_err().to_string();
        assert_eq!(
            e(answer(None, None, b"")),
            "no response (timeout or connection failure)"
        );
        assert_eq!(e(answer(Some(404), None, b"{}")), "HTTP status 404");
        assert_eq!(e(answer(Some(200), None, b"")), "empty body");
        assert!(e(answer(Some(200), None, b"<html>")).starts_with("JWKS"));
        let big = Answer {
            body_size: MAX_JWKS_BYTES + 1,
            ..answer(Some(200), None, b"")
        };
        assert!(e(big).contains("exceeds"));
        let jwks = crate::testkeys::jwks(&[crate::testkeys::rsa_jwk("k1", true)]).into_bytes();
        let leaked: &'static [u8] = Vec::leak(jwks);
        let (body, set) = keys(answer(Some(200), None, leaked), parse).unwrap();
        assert_eq!((body.as_slice(), set.len()), (leaked, 1));
    }
}
