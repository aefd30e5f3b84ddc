//! JWS ECDSA signatures (`R‖S`, RFC 7518 §3.4) as the DER `ECDSA-Sig-Value` BoringSSL
//! verifies: `SEQUENCE { INTEGER r, INTEGER s }`, each integer minimal and non-negative.

/// DER INTEGER of an unsigned big-endian number.
fn integer(out: &mut Vec<u8>, unsigned: &[u8]) {
    let start = unsigned
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(unsigned.len());
    let digits = unsigned.get(start..).unwrap_or_default();
    let pad = digits.first().is_none_or(|&b| b & 0x80 != 0);
    out.push(0x02);
    out.push((digits.len() + usize::from(pad)) as u8);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
}

/// The DER form of a JWS ECDSA signature whose R and S are `half` bytes each (32 for
/// ES256, 48 for ES384); `None` when it is not exactly `2 * half` bytes. Values of R or S
/// outside `1..n` are encoded as they are: the verifier refuses them.
pub fn ecdsa_signature(rs: &[u8], half: usize) -> Option<Vec<u8>> {
    if rs.len() != half.checked_mul(2)? || half > 60 {
        return None;
    }
    let (r, s) = rs.split_at(half);
    let mut body = Vec::with_capacity(rs.len() + 6);
    integer(&mut body, r);
    integer(&mut body, s);
    let mut der = Vec::with_capacity(body.len() + 2);
    der.push(0x30);
    der.push(u8::try_from(body.len()).ok().filter(|&l| l < 0x80)?);
    der.extend_from_slice(&body);
    Some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_integers_with_sign_padding() {
        let mut rs = [0u8; 64];
        rs[31] = 1; // r = 1
        rs[32] = 0x80; // s has its top bit set
        let der = ecdsa_signature(&rs, 32).unwrap();
        assert_eq!(&der[..5], &[0x30, 3 + 35, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 33, 0x00]);
        assert_eq!(der[8], 0x80);
        assert_eq!(der.len(), 2 + 3 + 35);
    }

    #[test]
    fn zero_is_one_zero_byte_and_lengths_are_exact() {
        assert_eq!(
            ecdsa_signature(&[0u8; 64], 32).unwrap(),
            [0x30, 6, 0x02, 1, 0, 0x02, 1, 0]
        );
        assert!(ecdsa_signature(&[1u8; 63], 32).is_none());
        assert!(ecdsa_signature(&[1u8; 72], 32).is_none());
        assert!(ecdsa_signature(&[1u8; 64], 48).is_none());
        let p384 = ecdsa_signature(&[0xffu8; 96], 48).unwrap();
        assert_eq!(&p384[..2], &[0x30, 2 * (2 + 49)]);
    }

    #[test]
    fn matches_an_independent_der_encoder() {
        use p256::ecdsa::Signature;
        for seed in 0u8..64 {
            let mut rs = [0u8; 64];
            for (i, b) in rs.iter_mut().enumerate() {
                *b = seed
                    .wrapping_mul(37)
                    .wrapping_add(i as u8)
                    .rotate_left(u32::from(seed % 8));
            }
            rs[0] &= 0x7f; // keep r and s below the group order
            rs[32] &= 0x7f;
            if seed % 3 == 0 {
                rs[..5].fill(0); // leading zeros
            }
            let reference = Signature::from_slice(&rs).unwrap().to_der();
            assert_eq!(ecdsa_signature(&rs, 32).unwrap(), reference.as_bytes());
        }
    }
}
