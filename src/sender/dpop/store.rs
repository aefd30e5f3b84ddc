//! The process-wide store DPoP state lives in: proxy-wasm shared data seen through a tiny
//! compare-and-swap interface, so the pure code above it runs against a fake in tests.
//! Envoy's semantics are kept: `get` returns a version (`cas`), `set` with that version
//! fails if another worker wrote since, and a key is never deleted.

/// Why a write did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another worker wrote the key since it was read.
    #[error("compare-and-swap mismatch")]
    CasMismatch,
    /// The host refused the write.
    #[error("shared data unavailable")]
    Unavailable,
}

/// Shared data with compare-and-swap.
pub trait CasStore {
    /// The value of `key` and its version, if the key exists.
    fn get(&self, key: &str) -> Option<(Vec<u8>, u32)>;
    /// Writes `value` if the key is still at version `cas` (`None`: unconditionally).
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError>;
}

/// The shared-data key of the process secret.
pub const SECRET_KEY: &str = "jwt_guard.dpop.secret";

/// The process secret: the stored one, else `fresh` stored for every worker. Two workers
/// starting at once may both store theirs; the last write wins, so callers re-read it
/// (each tick) instead of keeping the value they first got.
pub fn shared_secret(store: &dyn CasStore, fresh: [u8; 32]) -> [u8; 32] {
    let stored = |store: &dyn CasStore| {
        store
            .get(SECRET_KEY)
            .and_then(|(v, _)| <[u8; 32]>::try_from(v.as_slice()).ok())
    };
    if let Some(secret) = stored(store) {
        return secret;
    }
    let _ = store.set(SECRET_KEY, &fresh, None);
    stored(store).unwrap_or(fresh)
}

#[cfg(test)]
pub(crate) mod fake {
    //! An in-memory store with Envoy's semantics, shared by "workers" in tests.
    use super::*;
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    /// The process's shared data.
    #[derive(Default)]
    pub struct Fake {
        map: RefCell<HashMap<String, (Vec<u8>, u32)>>,
        next_cas: Cell<u32>,
        /// Fail this many upcoming conditional writes with a mismatch.
        pub fail_cas: Cell<u32>,
    }

    impl Fake {
        pub fn keys(&self) -> usize {
            self.map.borrow().len()
        }

        pub fn bytes(&self) -> usize {
            self.map.borrow().values().map(|(v, _)| v.len()).sum()
        }
    }

    impl CasStore for Fake {
        fn get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
            self.map.borrow().get(key).cloned()
        }

        fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
            let mut map = self.map.borrow_mut();
            if let (Some(want), Some((_, have))) = (cas, map.get(key)) {
                if self.fail_cas.get() > 0 {
                    self.fail_cas.set(self.fail_cas.get() - 1);
                    return Err(StoreError::CasMismatch);
                }
                if want != *have {
                    return Err(StoreError::CasMismatch);
                }
            }
            self.next_cas.set(self.next_cas.get() + 1);
            map.insert(key.to_string(), (value.to_vec(), self.next_cas.get()));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::Fake;
    use super::*;

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
        store.set(SECRET_KEY, b"short", None).unwrap();
        assert_eq!(shared_secret(&store, [3; 32]), [3; 32]);
        assert_eq!(shared_secret(&store, [4; 32]), [3; 32]);
    }

    #[test]
    fn cas_mismatch_after_another_write() {
        let store = Fake::default();
        store.set("k", b"a", None).unwrap();
        let (_, cas) = store.get("k").unwrap();
        store.set("k", b"b", Some(cas)).unwrap();
        assert_eq!(
            store.set("k", b"c", Some(cas)),
            Err(StoreError::CasMismatch)
        );
        assert_eq!(store.get("k").unwrap().0, b"b");
    }
}
