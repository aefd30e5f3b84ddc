//! Stage 2: a token not in the cache: parse, issuer, keys, signature, profile and client;
//! a request that needs newer keys stops here with a [`Pending`].

use super::forward;
use super::grant::{finish, unmet_claims};
use super::request::Context;
use super::verdict::{invalid, Pending, Verdict};
use crate::cache::{Digest, TokenCache};
use crate::jwks::{KeyId, KeySet};
use crate::policy::{self, Requirement};
use crate::reject::Denial;
use crate::sender::check::{Presentation, SenderError, Sent};
use crate::sender::cnf::Confirmation;
use crate::stepup::AuthContext;
use crate::token::TokenError;
use crate::verify;
use crate::verify::Verified;
use crate::{profile, token};

/// The case [`judge`] decides: a token on its way, with what the request presented.
pub(super) struct Case<'t> {
    pub(super) token: &'t str,
    pub(super) need: Requirement,
    pub(super) digest: Option<Digest>,
    pub(super) failed_key: Option<KeyId>,
    pub(super) presented: Presentation<'t>,
}

impl Case<'_> {
    fn pending(self, fallback: Denial, failed_key: Option<KeyId>) -> Pending {
        Pending {
            token: self.token.to_string(),
            need: self.need,
            digest: self.digest,
            fallback,
            failed_key,
            sent: Box::new(Sent::of(&self.presented)),
        }
    }
}

/// Verifies a token not found in the cache (or resumed) and admits it or says why not.
pub(super) fn judge<'k>(
    ctx: &Context<'_>,
    case: Case<'_>,
    resumed: bool,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let cfg = ctx.config;
    let jws = match token::parse(case.token, cfg.max_token_bytes) {
        Ok(jws) => jws,
        Err(e) => return invalid(e),
    };
    let issuer = jws.claims.issuer.as_deref().unwrap_or("");
    let Some((index, provider)) = cfg.provider_for(issuer) else {
        return invalid(TokenError::UnknownIssuer);
    };
    if !case.need.accepts(index) {
        return invalid(TokenError::IssuerNotAccepted);
    }
    let Some(keyset) = keys(index) else {
        // Check what needs no keys first: an expired token gets its 401 even in an outage.
        if let Err(e) = verify::check_claims(&jws.claims, provider, ctx.now, cfg.clock_skew_s) {
            return invalid(e);
        }
        let pending = case.pending(Denial::KeysUnavailable { retry_after_s: 1 }, None);
        return Verdict::NeedKeys {
            provider: index,
            pending,
        };
    };
    let key_under_kid = jws
        .kid
        .as_deref()
        .and_then(|kid| keyset.candidates(Some(kid), jws.alg).next())
        .map(|k| k.id);
    if resumed && case.failed_key.is_some() && key_under_kid == case.failed_key {
        // The refetch brought the same key: the signature fails as it did.
        return invalid(TokenError::Signature);
    }
    let result = verify::verify(
        &jws,
        provider,
        keyset,
        ctx.now,
        cfg.clock_skew_s,
        ctx.backend,
    );
    match result {
        Ok((window, key)) => {
            if let Err(why) = provider.profile.check(jws.typ.as_deref(), &jws.claims) {
                return invalid(TokenError::Profile(why));
            }
            if !profile::client_accepted(&provider.clients, &jws.claims) {
                return invalid(TokenError::Client);
            }
            let Ok(cnf) = Confirmation::of(&jws.claims) else {
                let denial = Denial::sender(SenderError::Confirmation, case.presented.scheme, None);
                return Verdict::Deny(denial);
            };
            let (headers, withheld) = forward::headers(cfg, provider, &jws);
            let verified = Verified {
                provider: index,
                key,
                window,
                granted: policy::granted_scopes(&jws.claims),
                headers,
                withheld,
                cnf,
                auth: AuthContext::of(&jws.claims),
                unmet: unmet_claims(cfg, &jws),
            };
            let verdict = finish(ctx, &case.need, &verified, &case.presented);
            if let Some(digest) = case.digest {
                cache.insert(digest, verified, ctx.now, cfg.clock_skew_s);
            }
            verdict
        }
        Err(e @ (TokenError::UnknownKey | TokenError::Signature))
            if !resumed && jws.kid.is_some() =>
        {
            let failed = (e == TokenError::Signature)
                .then_some(key_under_kid)
                .flatten();
            Verdict::NeedKeys {
                provider: index,
                pending: case.pending(Denial::InvalidToken(e), failed),
            }
        }
        Err(e) => invalid(e),
    }
}
