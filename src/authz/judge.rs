//! Stage 2: a token not in the cache: parse, issuer, keys, signature, profile and client;
//! a request that needs newer keys stops here with a [`Pending`].

use super::forward;
use super::grant::{finish, unmet_claims};
use super::{Context, Pending, Verdict};
use crate::cache::{Digest, TokenCache, Verified};
use crate::jwks::{KeyId, KeySet};
use crate::policy::{self, Requirement};
use crate::reject::{Denial, TokenError};
use crate::sender::check::{Presentation, SenderError, Sent};
use crate::sender::cnf::Confirmation;
use crate::stepup::AuthContext;
use crate::verify;
use crate::{profile, token};

/// A token on its way through [`judge`].
pub(super) struct Held<'t> {
    pub(super) token: &'t str,
    pub(super) need: Requirement,
    pub(super) digest: Option<Digest>,
    pub(super) failed_key: Option<KeyId>,
    pub(super) presented: Presentation<'t>,
}

impl Held<'_> {
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

pub(super) fn invalid(e: TokenError) -> Verdict {
    Verdict::Deny(Denial::InvalidToken(e))
}

/// Verifies a token not found in the cache (or resumed) and admits it or says why not.
pub(super) fn judge<'k>(
    ctx: &Context<'_>,
    held: Held<'_>,
    resumed: bool,
    keys: impl Fn(usize) -> Option<&'k KeySet>,
    cache: &mut TokenCache,
) -> Verdict {
    let cfg = ctx.config;
    let jws = match token::parse(held.token, cfg.max_token_bytes) {
        Ok(jws) => jws,
        Err(e) => return invalid(e),
    };
    let issuer = jws.claims.issuer.as_deref().unwrap_or("");
    let Some((index, provider)) = cfg.provider_for(issuer) else {
        return invalid(TokenError::UnknownIssuer);
    };
    if !held.need.accepts(index) {
        return invalid(TokenError::IssuerNotAccepted);
    }
    let Some(keyset) = keys(index) else {
        // Check what needs no keys first: an expired token gets its 401 even in an outage.
        if let Err(e) = verify::check_claims(&jws.claims, provider, ctx.now, cfg.clock_skew_s) {
            return invalid(e);
        }
        let pending = held.pending(Denial::KeysUnavailable { retry_after_s: 1 }, None);
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
    if resumed && held.failed_key.is_some() && key_under_kid == held.failed_key {
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
                let denial = Denial::sender(SenderError::Confirmation, held.presented.scheme, None);
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
            let verdict = finish(ctx, &held.need, &verified, &held.presented);
            if let Some(digest) = held.digest {
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
                pending: held.pending(Denial::InvalidToken(e), failed),
            }
        }
        Err(e) => invalid(e),
    }
}
