//! Refresh tokens with rotation, as Auth0 issues them when the SPA asks for
//! `offline_access`: every use returns a new refresh token and spends the old one; using
//! a spent one again is taken as theft, and the whole family (every token descended from
//! the same sign-in) is revoked.

use std::collections::HashMap;

use super::random_id;
use super::tokens::UserGrant;

/// How long a refresh token can be used (Auth0's default absolute lifetime is 30 days).
pub const REFRESH_TTL_S: u64 = 30 * 24 * 3600;
/// Most refresh tokens kept at once.
const MAX_TOKENS: usize = 10_000;

#[derive(Debug, Clone)]
struct Entry {
    grant: UserGrant,
    family: String,
    spent: bool,
    expires_at: u64,
}

/// Why a refresh token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Unknown, expired or revoked.
    Invalid,
    /// Already rotated: the token's family has now been revoked.
    Reused,
}

/// The refresh tokens issued, by token value.
#[derive(Debug, Default)]
pub struct RefreshTokens {
    entries: HashMap<String, Entry>,
}

impl RefreshTokens {
    /// Issues a refresh token for `grant`, starting a family or continuing `family`.
    /// `None` when the store is full.
    pub fn issue(&mut self, grant: UserGrant, family: Option<String>, now: u64) -> Option<String> {
        self.entries.retain(|_, e| e.expires_at > now);
        if self.entries.len() >= MAX_TOKENS {
            return None;
        }
        let token = random_id();
        let family = family.unwrap_or_else(random_id);
        self.entries.insert(
            token.clone(),
            Entry {
                grant,
                family,
                spent: false,
                expires_at: now.saturating_add(REFRESH_TTL_S),
            },
        );
        Some(token)
    }

    /// Spends `token`: the grant it stands for and its family, for the next token.
    pub fn rotate(&mut self, token: &str, now: u64) -> Result<(UserGrant, String), Refused> {
        let entry = self.entries.get_mut(token).ok_or(Refused::Invalid)?;
        if entry.expires_at <= now {
            return Err(Refused::Invalid);
        }
        if entry.spent {
            let family = entry.family.clone();
            self.entries.retain(|_, e| e.family != family);
            return Err(Refused::Reused);
        }
        entry.spent = true;
        Ok((entry.grant.clone(), entry.family.clone()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::idp::User;

    fn grant() -> UserGrant {
        UserGrant {
            user: User {
                name: "reader".into(),
                permissions: vec!["read:data".into()],
            },
            audience: Some("https://api.example.com".into()),
            scope: "openid offline_access".into(),
            nonce: Some("n".into()),
            sid: "s".into(),
            auth_time: 1,
        }
    }

    #[test]
    fn rotation_spends_each_token_once_and_reuse_revokes_the_family() {
        let mut store = RefreshTokens::default();
        let first = store.issue(grant(), None, 100).unwrap();
        let other = store.issue(grant(), None, 100).unwrap();
        let (got, family) = store.rotate(&first, 200).unwrap();
        assert_eq!(got, grant());
        let second = store.issue(got, Some(family), 200).unwrap();
        // The first token again: theft is assumed, its whole family is gone.
        assert_eq!(store.rotate(&first, 300), Err(Refused::Reused));
        assert_eq!(store.rotate(&second, 300), Err(Refused::Invalid));
        // Another sign-in's family is untouched.
        assert!(store.rotate(&other, 300).is_ok());
        assert_eq!(store.rotate("nope", 300), Err(Refused::Invalid));
    }

    #[test]
    fn tokens_expire() {
        let mut store = RefreshTokens::default();
        let token = store.issue(grant(), None, 0).unwrap();
        assert_eq!(store.rotate(&token, REFRESH_TTL_S), Err(Refused::Invalid));
    }
}
