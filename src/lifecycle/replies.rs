//! Local replies built once: a refusal's status, encoded headers, body and access-log
//! details are built the first time a worker answers that exact refusal and reused for
//! every later request refused the same way, so a flood of bad tokens costs no string
//! building, JSON or map encoding per request. Bounded; a reply carrying a per-request
//! value (a `DPoP-Nonce`) is built each time.

use super::headers::encode_map;
use crate::reject::challenge::Offer;
use crate::reject::Denial;
use std::rc::Rc;

/// Most distinct refusals kept per worker.
const MAX_PREPARED: usize = 64;

/// A local reply ready for the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The HTTP status.
    pub status: u32,
    /// The headers in the proxy-wasm map encoding.
    pub headers: Vec<u8>,
    /// The body.
    pub body: String,
    /// `%RESPONSE_CODE_DETAILS%`, e.g. `jwt_guard_denied{expired}`.
    pub details: String,
}

impl Prepared {
    /// `denial`'s reply, its challenges offering `offer`.
    pub fn of(denial: &Denial, offer: &Offer) -> Prepared {
        let reply = denial.reply_for(offer);
        Prepared {
            status: reply.status,
            headers: encode_map(&reply.headers),
            body: reply.body,
            details: format!("jwt_guard_denied{{{}}}", denial.reason().name()),
        }
    }
}

/// The replies one worker has built.
#[derive(Debug, Default)]
pub struct Replies {
    built: Vec<(Denial, Rc<Prepared>)>,
}

impl Replies {
    /// The reply for `denial`, built now only the first time.
    pub fn get(&mut self, denial: &Denial, offer: &Offer) -> Rc<Prepared> {
        if let Some((_, done)) = self.built.iter().find(|(d, _)| d == denial) {
            return Rc::clone(done);
        }
        let prepared = Rc::new(Prepared::of(denial, offer));
        let per_request = matches!(denial, Denial::Sender { nonce: Some(_), .. });
        if !per_request && self.built.len() < MAX_PREPARED {
            self.built.push((denial.clone(), Rc::clone(&prepared)));
        }
        prepared
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenError;

    #[test]
    fn a_reply_is_built_once_and_is_the_reply_of_its_denial() {
        let offer = Offer::default();
        let mut replies = Replies::default();
        let expired = Denial::InvalidToken(TokenError::Expired);
        let first = replies.get(&expired, &offer);
        assert!(Rc::ptr_eq(&first, &replies.get(&expired, &offer)));
        assert_eq!(*first, Prepared::of(&expired, &offer));
        assert_eq!(first.details, "jwt_guard_denied{expired}");
        let missing = replies.get(&Denial::MissingToken, &offer);
        assert_eq!(missing.status, 401);
        assert!(!Rc::ptr_eq(&first, &missing));
    }

    #[test]
    fn the_cache_is_bounded() {
        let offer = Offer::default();
        let mut replies = Replies::default();
        for i in 0..MAX_PREPARED + 10 {
            let scopes = vec![format!("s{i}")];
            let got = replies.get(&Denial::InsufficientScope(scopes.clone()), &offer);
            assert_eq!(
                *got,
                Prepared::of(&Denial::InsufficientScope(scopes), &offer)
            );
        }
        assert_eq!(replies.built.len(), MAX_PREPARED);
    }
}
