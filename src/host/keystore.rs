//! Per-provider records in proxy-wasm shared data (one copy per `vm_id`, seen by every
//! worker): the last good JWKS text, and the [`FetchState`] updated by compare-and-swap.

use crate::config::Provider;
use crate::schedule::FetchState;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{Bytes, Status};

/// Attempts at a compare-and-swap update before giving up for this round.
const CAS_ATTEMPTS: usize = 8;

/// The shared-data keys of one provider.
pub struct SharedKeys {
    keys: String,
    fetch: String,
    jwks_uri: String,
}

impl SharedKeys {
    /// Names the records after the provider and a digest of its issuers and where its keys
    /// are found (JWKS or discovery URL), so two plugins with the same `vm_id` but other
    /// settings do not share keys.
    pub fn new(provider: &Provider, location: &str) -> SharedKeys {
        let issuers = provider.issuers.join("\n");
        let id = blake3::hash(format!("{issuers}\n{location}").as_bytes());
        let tag: String = id
            .as_bytes()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        let base = format!("jwt_guard.{}.{tag}", provider.name);
        SharedKeys {
            keys: format!("{base}.keys"),
            fetch: format!("{base}.fetch"),
            jwks_uri: format!("{base}.jwks_uri"),
        }
    }

    /// The `jwks_uri` of the last good discovery document, if any.
    pub fn discovered_jwks_uri(&self) -> Option<String> {
        match hostcalls::get_shared_data(&self.jwks_uri) {
            Ok((Some(bytes), _)) => String::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    /// Records the `jwks_uri` of a good discovery document for every worker.
    pub fn publish_jwks_uri(&self, uri: &str) -> Result<(), Status> {
        hostcalls::set_shared_data(&self.jwks_uri, Some(uri.as_bytes()), None)
    }

    /// The published JWKS text and its version (the shared-data CAS).
    pub fn read_keys(&self) -> Option<(Bytes, u32)> {
        match hostcalls::get_shared_data(&self.keys) {
            Ok((Some(bytes), Some(cas))) => Some((bytes, cas)),
            _ => None,
        }
    }

    /// Publishes a validated JWKS text for every worker.
    pub fn publish_keys(&self, text: &[u8]) -> Result<(), Status> {
        hostcalls::set_shared_data(&self.keys, Some(text), None)
    }

    /// Creates the fetch record if no worker has yet, so later updates are all CAS-checked.
    pub fn ensure_fetch_record(&self) {
        if let Ok((None, _)) = hostcalls::get_shared_data(&self.fetch) {
            let fresh = FetchState::default().encode();
            if let Err(e) = hostcalls::set_shared_data(&self.fetch, Some(&fresh), None) {
                log::warn!("cannot create shared record {}: {e:?}", self.fetch);
            }
        }
    }

    /// The current fetch schedule.
    pub fn fetch_state(&self) -> FetchState {
        let bytes = hostcalls::get_shared_data(&self.fetch)
            .ok()
            .and_then(|(b, _)| b);
        FetchState::decode(bytes.as_deref())
    }

    /// Applies `change` to the fetch schedule atomically. `change` returns `false` to leave
    /// the record as it is; the result is `Some(state)` only when this call wrote it.
    pub fn update_fetch(&self, change: impl Fn(&mut FetchState) -> bool) -> Option<FetchState> {
        for _ in 0..CAS_ATTEMPTS {
            let (bytes, cas) = hostcalls::get_shared_data(&self.fetch).ok()?;
            let mut state = FetchState::decode(bytes.as_deref());
            if !change(&mut state) {
                return None;
            }
            // A CAS of 0 writes unconditionally: only possible before `ensure_fetch_record`.
            match hostcalls::set_shared_data(&self.fetch, Some(&state.encode()), cas.or(Some(0))) {
                Ok(()) => return Some(state),
                Err(Status::CasMismatch) => continue,
                Err(_) => return None,
            }
        }
        None
    }
}
