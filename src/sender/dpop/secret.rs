//! The process secret DPoP keys its nonces and replay fingerprints with: created by the
//! first worker and kept in shared data, so every worker of the process uses the same one.

use crate::shared::SharedData;

/// The shared-data key of the process secret.
pub const SECRET_KEY: &str = "jwt_guard.dpop.secret";

/// The process secret: the stored one, else `fresh` stored for every worker. Two workers
/// starting at once may both store theirs; the last write wins, so callers re-read it
/// (each tick) instead of keeping the value they first got.
pub fn shared_secret(store: &dyn SharedData, fresh: [u8; 32]) -> [u8; 32] {
    let stored = |store: &dyn SharedData| {
        store
            .shared_get(SECRET_KEY)
            .and_then(|(v, _)| <[u8; 32]>::try_from(v.as_slice()).ok())
    };
    if let Some(secret) = stored(store) {
        return secret;
    }
    let _ = store.shared_set(SECRET_KEY, &fresh, 0);
    stored(store).unwrap_or(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::fake::Fake;

    #[test]
    fn the_first_secret_stored_is_everyone_s() {
        let store = Fake::default();
        let a = shared_secret(&store, [1; 32]);
        let b = shared_secret(&store, [2; 32]);
        assert_eq!(a, [1; 32]);
        assert_eq!(b, [1; 32]);
    }

    #[test]
    fn a_corrupt_secret_is_replaced() {
        let store = Fake::default();
        store.shared_set(SECRET_KEY, b"short", 0).unwrap();
        assert_eq!(shared_secret(&store, [3; 32]), [3; 32]);
        assert_eq!(shared_secret(&store, [4; 32]), [3; 32]);
    }
}
