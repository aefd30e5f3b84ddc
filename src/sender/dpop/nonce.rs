//! DPoP server nonces (RFC 9449 §8), derived rather than stored: a nonce is a time step
//! and a keyed BLAKE3 MAC of it under the process secret (kept in shared data, see
//! [`super::secret::shared_secret`]), so every worker issues and accepts the same values
//! without any per-nonce state. A nonce is current for its step and the next one.

use crate::b64;

/// Seconds one nonce step lasts; a nonce is accepted for one to two steps.
pub const NONCE_STEP_S: u64 = 60;
/// Bytes of the MAC kept in a nonce.
const MAC_LEN: usize = 16;
/// Domain separation from the other uses of the process secret.
const CONTEXT: &[u8] = b"jwt-guard dpop nonce v1";

/// Issues and checks nonces under one secret.
#[derive(Clone)]
pub struct Nonces {
    secret: [u8; 32],
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nonces(..)")
    }
}

impl Nonces {
    /// Nonces keyed by the process secret.
    pub fn new(secret: [u8; 32]) -> Nonces {
        Nonces { secret }
    }

    fn mac(&self, step: u64) -> [u8; MAC_LEN] {
        let mut hasher = blake3::Hasher::new_keyed(&self.secret);
        hasher.update(CONTEXT);
        hasher.update(&step.to_be_bytes());
        let mut out = [0u8; MAC_LEN];
        hasher.finalize_xof().fill(&mut out);
        out
    }

    /// The nonce to hand out at `now` (seconds since the epoch).
    pub fn current(&self, now: u64) -> String {
        let step = now / NONCE_STEP_S;
        let mut bytes = step.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.mac(step));
        b64::encode(&bytes)
    }

    /// Whether `nonce` was issued by this process at this step or the one before.
    pub fn accepts(&self, nonce: &str, now: u64) -> bool {
        let Some(bytes) = b64::decode(nonce.as_bytes()) else {
            return false;
        };
        let (Some(step), Some(mac)) = (bytes.get(..8), bytes.get(8..)) else {
            return false;
        };
        let Ok(step) = <[u8; 8]>::try_from(step).map(u64::from_be_bytes) else {
            return false;
        };
        let current = now / NONCE_STEP_S;
        if step != current && step.saturating_add(1) != current {
            return false;
        }
        let expected = self.mac(step);
        mac.len() == MAC_LEN && mac.iter().zip(expected).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
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
        // Not from the future either.
        assert!(!n.accepts(&n.current(NOW + NONCE_STEP_S), NOW));
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
}
