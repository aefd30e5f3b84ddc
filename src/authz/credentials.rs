//! Stage 1: the request's credentials (token sources, `Authorization` schemes) and the
//! verified-token cache.

use super::grant::admit;
use super::judge::{judge, Case};
use super::request::{Context, Request};
use super::verdict::Verdict;
use crate::cache::{self, TokenCache};
use crate::jwks::KeySet;
use crate::policy::Requirement;
use crate::reject::Denial;
use crate::sender::check::Presentation;
use crate::sender::scheme::{self, Presented, Scheme};
use crate::sources;
use crate::sources::TokenSource;
use crate::token::shape::Shape;
use crate::token::Credentials;

/// The verdict as enforced.
pub(super) fn enforce<'k>(
    ctx: &Context<'_>,
    req: &Request<'_>,
    need: Requirement,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let lookup = |name: &str| {
        req.token_headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect()
    };
    // A `DPoP` token (RFC 9449 §7.1) is read from `Authorization`, when that header is a
    // token source and no source holds a bearer token.
    let authorization: Vec<&str> = if ctx.config.token_sources.contains(&TokenSource::bearer()) {
        lookup("authorization")
    } else {
        vec![]
    };
    let (scheme, token) = match sources::extract(&ctx.config.token_sources, lookup) {
        Credentials::Bearer(token) => (Scheme::Bearer, token),
        Credentials::Invalid(why) => return Verdict::Deny(Denial::InvalidRequest(why)),
        Credentials::None => match scheme::extract(&authorization) {
            Presented::Token(Scheme::Dpop, token) => (Scheme::Dpop, token),
            Presented::Invalid(why) => return Verdict::Deny(Denial::InvalidRequest(why)),
            Presented::None | Presented::Token(Scheme::Bearer, _) if need.allow_anonymous => {
                return Verdict::Allow {
                    headers: vec![],
                    withheld: 0,
                }
            }
            Presented::None | Presented::Token(Scheme::Bearer, _) if !req.dpop.is_empty() => {
                return Verdict::Deny(Denial::InvalidRequest("DPoP proof without an access token"))
            }
            Presented::None | Presented::Token(Scheme::Bearer, _) => {
                return Verdict::Deny(Denial::MissingToken)
            }
        },
    };
    let presented = Presentation {
        scheme,
        token,
        proofs: req.dpop,
        method: req.method,
        path: req.path,
        origin: req.origin,
        peer_certificate: req.peer_certificate,
    };
    // Only a token that can parse is hashed: junk is refused by the parser, unhashed.
    let parsable = token.len() <= ctx.config.max_token_bytes && Shape::of(token) == Shape::Jws;
    let digest = (cache.enabled() && parsable).then(|| cache::digest(token));
    if let Some(hit) = digest.as_ref().and_then(|d| cache.lookup(d)) {
        // A cached token was verified once, by key material the provider must still
        // publish; its provider, time window and scopes are checked anew.
        if keys(hit.provider).is_some_and(|set| set.contains(&hit.key)) {
            return admit(ctx, &need, hit, &presented);
        }
    }
    let case = Case {
        token,
        need,
        digest,
        failed_key: None,
        presented,
    };
    judge(ctx, case, false, keys, cache)
}
