//! The lifecycle's [`Host`] on the command line: a fixed clock (`--now` or the system's),
//! shared data in a map (one worker, one process), callouts queued for the driver to
//! answer from `--jwks` files or `--fetch`, and counters recorded (they name the reason).

use jwt_guard::config::RemoteJwks;
use jwt_guard::lifecycle::{Counter, Gauge, Host};
use jwt_guard::shared::{SharedData, SharedError};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

/// One process with one worker, as the command line runs it.
pub struct Native {
    now_ms: u64,
    store: RefCell<HashMap<String, (Vec<u8>, u32)>>,
    version: Cell<u32>,
    next_token: u32,
    /// Callouts started and not answered yet.
    pub calls: VecDeque<(u32, RemoteJwks)>,
    /// Counters incremented, in order.
    pub counted: Vec<(Counter, u64)>,
}

impl Native {
    /// A host whose clock stands at `now_ms`.
    pub fn at(now_ms: u64) -> Native {
        Native {
            now_ms,
            store: RefCell::new(HashMap::new()),
            version: Cell::new(0),
            next_token: 0,
            calls: VecDeque::new(),
            counted: Vec::new(),
        }
    }

    /// Forgets the counters recorded so far (those of warming up).
    pub fn reset_counters(&mut self) {
        self.counted.clear();
    }
}

impl SharedData for Native {
    fn shared_get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        self.store.borrow().get(key).cloned()
    }

    fn shared_set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedError> {
        let mut store = self.store.borrow_mut();
        let current = store.get(key).map_or(0, |(_, v)| *v);
        if cas != 0 && cas != current {
            return Err(SharedError::CasMismatch);
        }
        let version = self.version.get().wrapping_add(1).max(1);
        self.version.set(version);
        store.insert(key.to_string(), (value.to_vec(), version));
        Ok(())
    }
}

impl Host for Native {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn random(&mut self) -> u64 {
        // Only refresh jitter and nonce salts use it; one explained request needs neither
        // to be unpredictable.
        self.now_ms.rotate_left(17) ^ u64::from(self.version.get())
    }

    fn dispatch(&mut self, jwks: &RemoteJwks, _timeout_ms: u64) -> Result<u32, String> {
        self.next_token = self.next_token.wrapping_add(1);
        self.calls.push_back((self.next_token, jwks.clone()));
        Ok(self.next_token)
    }

    fn count(&mut self, counter: Counter, n: u64) {
        if n > 0 {
            self.counted.push((counter, n));
        }
    }

    fn gauge(&mut self, _gauge: Gauge, _value: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_data_is_compare_and_swap() {
        let h = Native::at(5_000);
        assert_eq!(h.shared_get("k"), None);
        h.shared_set("k", b"a", 0).unwrap();
        let (_, v) = h.shared_get("k").unwrap();
        assert_eq!(
            h.shared_set("k", b"b", v + 1),
            Err(SharedError::CasMismatch)
        );
        h.shared_set("k", b"b", v).unwrap();
        assert_eq!(h.shared_get("k").unwrap().0, b"b");
        assert_eq!(h.now_ms(), 5_000);
    }
}
