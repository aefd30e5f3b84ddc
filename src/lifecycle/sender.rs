//! DPoP's process-wide state on one worker: the replay store's buckets (created before
//! the worker serves), the process secret in shared data (re-read each tick, so workers
//! that raced at start agree), the nonces derived from it, and which proof algorithms
//! the host verifies. Shared data goes through the [`Host`].

use super::host::Host;
use crate::alg::Algorithm;
use crate::config::Config;
use crate::sender::dpop::nonce::Nonces;
use crate::sender::dpop::replay::ReplayCache;
use crate::sender::dpop::secret;
use crate::signature::backend::Backend;

/// One worker's DPoP state.
pub struct DpopState {
    pub secret: [u8; 32],
    pub nonces: Option<Nonces>,
    /// Whether `nonces` are keyed by `dpop_nonce_secrets_env` rather than `secret`.
    fleet_nonces: bool,
    /// Proof algorithms verified on the host.
    pub host_algorithms: Vec<Algorithm>,
}

impl DpopState {
    /// Creates the replay buckets (when some provider accepts DPoP) and adopts the process
    /// secret (stored by the first worker).
    pub fn new(config: &Config, backend: &Backend, host: &mut dyn Host) -> DpopState {
        let mut fresh = [0u8; 32];
        for chunk in fresh.chunks_mut(8) {
            for (d, s) in chunk.iter_mut().zip(host.random().to_le_bytes()) {
                *d = s;
            }
        }
        if config.offer.dpop {
            ReplayCache::new(config.dpop.proof_window_s, config.clock_skew_s).ensure(host);
        }
        let secret = secret::shared_secret(host, fresh);
        let host_algorithms = match backend {
            Backend::Host(h) if h.ecdsa() => vec![
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::ES256,
                Algorithm::ES384,
            ],
            Backend::Host(_) => vec![Algorithm::RS256, Algorithm::RS384, Algorithm::RS512],
            _ => vec![],
        };
        let nonces = config.dpop.nonce.then(|| match &config.dpop.nonce_secrets {
            Some(shared) => Nonces::shared(shared),
            None => Nonces::new(secret),
        });
        DpopState {
            secret,
            nonces,
            fleet_nonces: config.dpop.nonce_secrets.is_some(),
            host_algorithms,
        }
    }

    /// Adopts the stored secret if another worker's write won a start-up race (the nonces
    /// follow it unless they are keyed by the fleet's secrets).
    pub fn refresh(&mut self, host: &dyn Host) {
        let stored = host
            .shared_get(secret::SECRET_KEY)
            .and_then(|(v, _)| <[u8; 32]>::try_from(v.as_slice()).ok());
        if let Some(secret) = stored.filter(|s| *s != self.secret) {
            self.secret = secret;
            if self.nonces.is_some() && !self.fleet_nonces {
                self.nonces = Some(Nonces::new(secret));
            }
        }
    }
}
