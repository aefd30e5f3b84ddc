//! Header bytes as text, and the ABI's map encoding (local replies, the fake host).

/// A header value as text. Bytes that are not UTF-8 become U+FFFD in place, so a `Bearer`
/// value with such a byte is still read as a (malformed) bearer token and refused, never
/// mistaken for the absence of a token. (Envoy joins repeated `Authorization` headers into
/// one value with `,`, which no bearer token can contain.)
pub fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Headers in the proxy-wasm map encoding (for a local reply): a count, each name and
/// value length (all u32 little-endian), then each name and value followed by a NUL.
pub fn encode_map(headers: &[(&str, String)]) -> Vec<u8> {
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let sizes = headers
        .iter()
        .flat_map(|(n, v)| [len(n.len()), len(v.len())]);
    let mut out: Vec<u8> = std::iter::once(len(headers.len()))
        .chain(sizes)
        .flatten()
        .collect();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_encoded_as_the_abi_expects() {
        let map = encode_map(&[("a", "bc".to_string()), ("retry-after", String::new())]);
        let mut want = vec![2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0];
        want.extend_from_slice(b"a\0bc\0retry-after\0\0");
        assert_eq!(map, want);
        assert_eq!(encode_map(&[]), [0, 0, 0, 0]);
    }

    #[test]
    fn text_keeps_bad_bytes_visible() {
        assert_eq!(text(b"Bearer a\xffb".to_vec()), "Bearer a\u{fffd}b");
        assert_eq!(text(b"plain".to_vec()), "plain");
    }
}
