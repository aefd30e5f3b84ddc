//! Differential checking: two backends must agree, and every disagreement is counted.

use super::SignatureCheck;
use crate::jwks::Key;
use crate::token::Jws;
use crate::token::TokenError;
use std::cell::Cell;

/// Checks with two backends and accepts only when both accept; counts disagreements.
pub struct Both<A, B> {
    reference: A,
    other: B,
    disagreements: Cell<u64>,
}

impl<A: SignatureCheck, B: SignatureCheck> Both<A, B> {
    /// Differential checking of `other` against `reference`.
    pub fn new(reference: A, other: B) -> Self {
        Both {
            reference,
            other,
            disagreements: Cell::new(0),
        }
    }

    /// Disagreements counted since the last call.
    pub fn take_disagreements(&self) -> u64 {
        self.disagreements.take()
    }
}

impl<A: SignatureCheck, B: SignatureCheck> SignatureCheck for Both<A, B> {
    fn check(&self, key: &Key, jws: &Jws<'_>) -> Result<(), TokenError> {
        let a = self.reference.check(key, jws);
        let b = self.other.check(key, jws);
        if a.is_ok() != b.is_ok() {
            self.disagreements
                .set(self.disagreements.get().saturating_add(1));
            log::warn!(
                "signature backends disagree on a {} token (kid {:?})",
                key.alg,
                key.kid
            );
            return Err(TokenError::Signature);
        }
        a.and(b)
    }
}
