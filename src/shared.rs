//! Process-wide shared data (proxy-wasm shared data): every worker of the Envoy process sees
//! the same records. Envoy's semantics are kept: a read returns the record's version
//! (`cas`), a write with that version fails if another worker wrote since (0: write
//! unconditionally), and a record is never deleted. The lifecycle's `Host` provides it;
//! DPoP's replay store and process secret live in it.

/// A shared-data write that did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedError {
    /// Another worker wrote the record since it was read.
    CasMismatch,
    /// Any other failure.
    Failed,
}

/// Shared data with compare-and-swap.
pub trait SharedData {
    /// A shared-data record and its CAS version; `None` when absent.
    fn shared_get(&self, key: &str) -> Option<(Vec<u8>, u32)>;
    /// Writes a shared-data record if its version is still `cas` (0: unconditionally).
    fn shared_set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedError>;
}

#[cfg(test)]
pub(crate) mod fake {
    //! In-memory shared data with Envoy's semantics, shared by "workers" in tests.
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

    impl SharedData for Fake {
        fn shared_get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
            self.map.borrow().get(key).cloned()
        }

        fn shared_set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedError> {
            let mut map = self.map.borrow_mut();
            if let (true, Some((_, have))) = (cas != 0, map.get(key)) {
                if self.fail_cas.get() > 0 {
                    self.fail_cas.set(self.fail_cas.get() - 1);
                    return Err(SharedError::CasMismatch);
                }
                if cas != *have {
                    return Err(SharedError::CasMismatch);
                }
            }
            self.next_cas.set(self.next_cas.get() + 1);
            map.insert(key.to_string(), (value.to_vec(), self.next_cas.get()));
            Ok(())
        }
    }

    #[test]
    fn cas_mismatch_after_another_write() {
        let store = Fake::default();
        store.shared_set("k", b"a", 0).unwrap();
        let (_, cas) = store.shared_get("k").unwrap();
        store.shared_set("k", b"b", cas).unwrap();
        assert_eq!(
            store.shared_set("k", b"c", cas),
            Err(SharedError::CasMismatch)
        );
        assert_eq!(store.shared_get("k").unwrap().0, b"b");
    }
}
