//! What the host reads from and writes to header maps, decided here: header bytes as
//! text, the values of the token sources' headers, the method-override and DPoP values a
//! request carries, its origin, and the ABI's map encoding for local replies.

use crate::config::Config;
use crate::sender::dpop::htu::Origin;

/// A header value as text. Bytes that are not UTF-8 become U+FFFD in place, so a `Bearer`
/// value with such a byte is still read as a (malformed) bearer token and refused, never
/// mistaken for the absence of a token. (Envoy joins repeated `Authorization` headers into
/// one value with `,`, which no bearer token can contain.)
pub fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The values of the headers the token sources read ([`Config::token_headers`]) as
/// (name, value) pairs. `Authorization` is read once (Envoy joins repeated lines into one
/// value); any other token header, when `present`, has every value read from `all` (the
/// whole header map, at most once), so a repeated header is seen as repeated.
pub fn token_headers(
    config: &Config,
    get: impl Fn(&str) -> Option<String>,
    all: impl FnOnce() -> Vec<(String, Vec<u8>)>,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut repeated = Vec::new();
    for name in config.token_headers() {
        match get(name) {
            Some(value) if name == "authorization" => found.push((name.to_string(), value)),
            Some(_) => repeated.push(name),
            None => {}
        }
    }
    if !repeated.is_empty() {
        found.extend(
            all()
                .into_iter()
                .filter(|(name, _)| repeated.contains(&name.as_str()))
                .map(|(name, value)| (name, text(value))),
        );
    }
    found
}

/// Every value of the method-override headers. Read only when a rule is limited to some
/// methods (otherwise they cannot change the requirement), by asking `present` for each
/// spelling; Envoy's single-header read returns only the first of repeated values, so
/// when any is present `all` (the whole header map) gives every value.
pub fn method_overrides(
    config: &Config,
    present: impl Fn(&str) -> bool,
    all: impl FnOnce() -> Vec<(String, Vec<u8>)>,
) -> Vec<String> {
    let methods_matter = config.rules.iter().any(|r| !r.methods.is_empty());
    if !methods_matter || !config.method_override_headers().any(present) {
        return vec![];
    }
    all()
        .into_iter()
        .filter(|(name, _)| config.is_method_override_header(name))
        .map(|(_, value)| text(value))
        .collect()
}

/// Every value of header `name` (lower case) when `present`: a single-header read returns
/// only the first of repeated lines (Envoy does not join e.g. `DPoP`), so `all` (the whole
/// header map) is read then, and two proofs are seen as two.
pub fn every(
    name: &str,
    present: bool,
    all: impl FnOnce() -> Vec<(String, Vec<u8>)>,
) -> Vec<String> {
    if !present {
        return vec![];
    }
    all()
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, value)| text(value))
        .collect()
}

/// The request's origin from `:scheme` and `:authority`, read only when `needed` (it only
/// matters for a DPoP proof's `htu`).
pub fn origin(
    needed: bool,
    parts: impl FnOnce() -> (Option<String>, Option<String>),
) -> Option<Origin> {
    let (scheme, authority) = needed.then(parts)?;
    Origin::from_parts(&scheme?, &authority?)
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
    use std::cell::Cell;

    fn config(rules: &str) -> Config {
        let text = format!(
            r#"{{"providers":[{{"name":"p","issuer":"https://t/","audiences":["a"],
                "jwks_cluster":"c"}}],"rules":{rules}}}"#
        );
        Config::parse(text.as_bytes()).unwrap()
    }

    fn request() -> Vec<(String, Vec<u8>)> {
        let h = |n: &str, v: &[u8]| (n.to_string(), v.to_vec());
        vec![
            h(":method", b"GET"),
            h("x-http-method-override", b"GET"),
            h("x-http-method-override", b"DELETE"),
            h("x_method_override", b"PUT\xff"),
            h("cookie", b"a=b"),
        ]
    }

    #[test]
    fn token_headers_read_every_value_only_when_present() {
        let cfg = Config::parse(
            br#"{"providers":[{"name":"p","issuer":"https://t/","audiences":["a"],"jwks_cluster":"c"}],
                 "token_sources":[{"header":"authorization","scheme":"Bearer"},{"cookie":"at"},{"header":"x-token"}]}"#,
        )
        .unwrap();
        let map = || {
            vec![
                ("authorization".to_string(), b"Bearer a".to_vec()),
                ("cookie".to_string(), b"at=b".to_vec()),
                ("cookie".to_string(), b"at=c".to_vec()),
            ]
        };
        let get = |name: &str| {
            map()
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| text(v))
        };
        let reads = Cell::new(0);
        let all = || {
            reads.set(reads.get() + 1);
            map()
        };
        let pair = |n: &str, v: &str| (n.to_string(), v.to_string());
        assert_eq!(
            token_headers(&cfg, get, all),
            [
                pair("authorization", "Bearer a"),
                pair("cookie", "at=b"),
                pair("cookie", "at=c")
            ]
        );
        assert_eq!(reads.get(), 1);
        let only_auth = |name: &str| (name == "authorization").then(|| "Bearer a".to_string());
        let never = || -> Vec<(String, Vec<u8>)> { panic!("whole map read without need") };
        assert_eq!(
            token_headers(&cfg, only_auth, never),
            [pair("authorization", "Bearer a")]
        );
    }

    #[test]
    fn every_repeated_value_of_every_spelling_is_read() {
        let cfg = config(r#"[{"prefix":"/admin","methods":["DELETE"]}]"#);
        let names = request();
        let present = |n: &str| names.iter().any(|(h, _)| h == n);
        let got = method_overrides(&cfg, present, request);
        assert_eq!(got, ["GET", "DELETE", "PUT\u{fffd}"]);
    }

    #[test]
    fn nothing_is_read_when_no_rule_lists_methods_or_none_is_present() {
        let asked = Cell::new(0);
        let present = |_: &str| {
            asked.set(asked.get() + 1);
            false
        };
        let cfg = config(r#"[{"prefix":"/admin","scopes":["w"]}]"#);
        assert!(method_overrides(&cfg, present, || panic!("no full read")).is_empty());
        assert_eq!(asked.get(), 0, "no look-up at all");
        let cfg = config(r#"[{"prefix":"/admin","methods":["POST"]}]"#);
        assert!(method_overrides(&cfg, present, || panic!("no full read")).is_empty());
        assert_eq!(asked.get(), cfg.method_override_headers().count());
    }

    #[test]
    fn every_line_of_a_repeated_header_when_present() {
        let dpop = |v: &[u8]| ("dpop".to_string(), v.to_vec());
        let all = || vec![dpop(b"a"), ("x".into(), b"y".to_vec()), dpop(b"b")];
        assert_eq!(every("dpop", true, all), ["a", "b"]);
        assert!(every("dpop", false, || panic!("no full read")).is_empty());
    }

    #[test]
    fn origin_only_when_needed_and_complete() {
        let parts = || {
            (
                Some("https".to_string()),
                Some("api.example.com".to_string()),
            )
        };
        assert!(origin(true, parts).is_some());
        assert!(origin(false, || panic!("not read")).is_none());
        assert!(origin(true, || (Some("https".into()), None)).is_none());
    }

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
