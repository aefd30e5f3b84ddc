//! DPoP server nonces (RFC 9449 §8), derived rather than stored: a nonce is a time step
//! and a keyed BLAKE3 MAC of it, so every worker, and every replica holding the same secret,
//! issues and accepts the same values without any per-nonce state. The secret is the
//! process's own (kept in shared data, see [`super::secret::shared_secret`]) or, with
//! `dpop_nonce_secrets_env`, the fleet's ([`super::secrets`]): issued under the first
//! listed secret, accepted under any. A nonce is current from the step before its own
//! (a replica whose clock runs ahead issued it) to the step after.

use super::secrets::NonceSecrets;
use crate::b64;

/// Seconds one nonce step lasts; a nonce is accepted for one to two steps where it was issued.
pub const NONCE_STEP_S: u64 = 60;
/// Bytes of the MAC kept in a nonce.
const MAC_LEN: usize = 16;
/// Domain separation from the other uses of the process secret.
const CONTEXT: &[u8] = b"jwt-guard dpop nonce v1";

/// Issues and checks nonces under one or more secrets.
#[derive(Clone)]
pub struct Nonces {
    /// The MAC key nonces are issued under.
    issuing: [u8; 32],
    /// Every MAC key a nonce is accepted under (the issuing one first).
    accepted: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nonces(..)")
    }
}

fn mac(key: &[u8; 32], step: u64) -> [u8; MAC_LEN] {
    let mut hasher = blake3::Hasher::new_keyed(key);
    hasher.update(CONTEXT);
    hasher.update(&step.to_be_bytes());
    let mut out = [0u8; MAC_LEN];
    hasher.finalize_xof().fill(&mut out);
    out
}

impl Nonces {
    /// Nonces keyed by the process secret: valid in this Envoy process only.
    pub fn new(secret: [u8; 32]) -> Nonces {
        Nonces {
            issuing: secret,
            accepted: vec![secret],
        }
    }

    /// Nonces keyed by the secrets a fleet shares: issued under the first, accepted under
    /// any, so every replica given the same list agrees.
    pub fn shared(secrets: &NonceSecrets) -> Nonces {
        Nonces {
            issuing: secrets.issuing(),
            accepted: secrets.accepted().to_vec(),
        }
    }

    /// The nonce to hand out at `now` (seconds since the epoch).
    pub fn current(&self, now: u64) -> String {
        let step = now / NONCE_STEP_S;
        let mut bytes = step.to_be_bytes().to_vec();
        bytes.extend_from_slice(&mac(&self.issuing, step));
        b64::encode(&bytes)
    }

    /// Whether `nonce` was issued under one of the accepted secrets for the step before,
    /// this or the next one.
    pub fn accepts(&self, nonce: &str, now: u64) -> bool {
        let Some(bytes) = b64::decode(nonce.as_bytes()) else {
            return false;
        };
        let (Some(step), Some(tag)) = (bytes.get(..8), bytes.get(8..)) else {
            return false;
        };
        let Ok(step) = <[u8; 8]>::try_from(step).map(u64::from_be_bytes) else {
            return false;
        };
        let current = now / NONCE_STEP_S;
        if step.saturating_add(1) < current || step > current.saturating_add(1) {
            return false;
        }
        tag.len() == MAC_LEN
            && self.accepted.iter().any(|key| {
                tag.iter()
                    .zip(mac(key, step))
                    .fold(0u8, |a, (x, y)| a | (x ^ y))
                    == 0
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn nonces_live_one_to_two_steps() {
        let n = Nonces::new([7; 32]);
        let nonce = n.current(NOW);
        assert!(n.accepts(&nonce, NOW));
        let step_end = (NOW / NONCE_STEP_S + 1) * NONCE_STEP_S;
        assert!(n.accepts(&nonce, step_end + NONCE_STEP_S - 1));
        assert!(!n.accepts(&nonce, step_end + NONCE_STEP_S));
        // One step ahead (a replica whose clock runs ahead), not two.
        assert!(n.accepts(&n.current(NOW + NONCE_STEP_S), NOW));
        assert!(!n.accepts(&n.current(NOW + 2 * NONCE_STEP_S), NOW));
    }

    #[test]
    fn another_worker_with_the_same_secret_agrees() {
        let (a, b) = (Nonces::new([7; 32]), Nonces::new([7; 32]));
        assert_eq!(a.current(NOW), b.current(NOW));
        assert!(b.accepts(&a.current(NOW), NOW + 1));
        let other_process = Nonces::new([8; 32]);
        assert!(!other_process.accepts(&a.current(NOW), NOW));
    }

    #[test]
    fn forged_nonces_are_refused() {
        let n = Nonces::new([7; 32]);
        let good = b64::decode(n.current(NOW).as_bytes()).unwrap();
        let mut flipped = good.clone();
        flipped[20] ^= 1;
        let mut short = good.clone();
        short.pop();
        for bad in [
            b64::encode(&flipped),
            b64::encode(&short),
            b64::encode(&good[..8]),
            String::new(),
            "!!".into(),
            format!("{}A", n.current(NOW)),
        ] {
            assert!(!n.accepts(&bad, NOW), "{bad}");
        }
    }

    fn shared(value: &str) -> Nonces {
        Nonces::shared(&NonceSecrets::parse("V", Some(value)).unwrap())
    }

    #[test]
    fn replicas_with_the_same_secrets_agree_and_rotation_steps_overlap() {
        let (old, new) = (b64::encode(&[1; 32]), b64::encode(&[2; 32]));
        let steps = [
            shared(&old),
            shared(&format!("{old},{new}")),
            shared(&format!("{new},{old}")),
            shared(&new),
        ];
        // Two replicas on one step, or on adjacent steps, accept each other's nonces.
        for pair in steps.windows(2) {
            for (a, b) in [(&pair[0], &pair[1]), (&pair[1], &pair[0])] {
                assert!(b.accepts(&a.current(NOW), NOW + 1));
                assert!(a.accepts(&a.current(NOW), NOW + 1));
            }
        }
        // Two steps apart they need not: the old-only replica does not know the new secret.
        assert!(!steps[0].accepts(&steps[2].current(NOW), NOW));
        assert!(!steps[3].accepts(&steps[0].current(NOW), NOW));
        // The process secret and a fleet secret are different keys.
        assert!(!Nonces::new([1; 32]).accepts(&steps[0].current(NOW), NOW));
    }
}
