//! The `htu` check (RFC 9449 §4.3 item 9): the proof's URI and the request's URI are
//! compared without query and fragment, after RFC 3986 §6.2.2 normalisation (case of
//! scheme and host, default port, percent-encoding, dot segments).

/// Longest URI compared; longer ones never match.
const MAX_URI_LEN: usize = 8 * 1024;

/// A normalised `scheme://host[:port]` the request was addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    /// Parses an origin such as `https://api.example.com` (no path, query or user info).
    pub fn parse(text: &str) -> Result<Origin, &'static str> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("must be an absolute http or https origin")?;
        if rest.contains(['/', '?', '#']) {
            return Err("must be an origin without path, query or fragment");
        }
        Origin::from_parts(scheme, rest).ok_or("must be an absolute http or https origin")
    }

    /// The origin of a request from its `:scheme` and `:authority`.
    pub fn from_parts(scheme: &str, authority: &str) -> Option<Origin> {
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => "80",
            "https" => "443",
            _ => return None,
        };
        let authority = normal_authority(authority, default_port)?;
        Some(Origin(format!("{scheme}://{authority}")))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lower-cases the host, drops an empty or default port; `None` if not a plain host[:port].
fn normal_authority(authority: &str, default_port: &str) -> Option<String> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        if v6.is_empty()
            || !v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        let port = match after {
            "" => "",
            p => p.strip_prefix(':')?,
        };
        (format!("[{}]", v6.to_ascii_lowercase()), port)
    } else {
        let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !host_ok {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    if port.is_empty() {
        return Some(host);
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match port.parse::<u16>().ok()? {
        0 => None,
        p if p.to_string() == default_port => Some(host),
        p => Some(format!("{host}:{p}")),
    }
}

/// The normalised request URI without query or fragment: `origin` + `path`.
pub fn request_uri(origin: &Origin, path: &str) -> Option<String> {
    let path = without_query(path);
    if !path.starts_with('/') {
        return None;
    }
    Some(format!("{}{}", origin.as_str(), normal_path(path)?))
}

/// Normalises an absolute http(s) URI, dropping query and fragment.
pub fn normalise(uri: &str) -> Option<String> {
    if uri.len() > MAX_URI_LEN {
        return None;
    }
    let (scheme, rest) = uri.split_once("://")?;
    let rest = without_query(rest);
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let origin = Origin::from_parts(scheme, authority)?;
    request_uri(&origin, path)
}

/// Whether the proof's `htu` names the request at `origin` + `path`.
pub fn matches(htu: &str, origin: &Origin, path: &str) -> bool {
    match (normalise(htu), request_uri(origin, path)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn without_query(text: &str) -> &str {
    match text.find(['?', '#']) {
        Some(i) => text.get(..i).unwrap_or(text),
        None => text,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// Percent-encoding normalised (unreserved decoded, hex upper-cased), dot segments
/// removed; `None` for a broken escape or a byte that has no place in a path.
fn normal_path(path: &str) -> Option<String> {
    if path.len() > MAX_URI_LEN {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let (h, l) = (hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?);
            let decoded = h * 16 + l;
            if is_unreserved(decoded) {
                out.push(char::from(decoded));
            } else {
                out.push_str(&format!("%{decoded:02X}"));
            }
            i += 3;
        } else if b.is_ascii_graphic() {
            out.push(char::from(b));
            i += 1;
        } else {
            return None;
        }
    }
    Some(remove_dot_segments(&out))
}

/// RFC 3986 §5.2.4 on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    let last = parts.len().saturating_sub(1);
    for (i, segment) in parts.into_iter().enumerate() {
        match segment {
            "." | ".." => {
                if segment == ".." {
                    segments.pop();
                }
                if i == last {
                    segments.push("");
                }
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(o: &str) -> Origin {
        Origin::parse(o).unwrap()
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            origin("HTTPS://Api.Example.COM:443").as_str(),
            "https://api.example.com"
        );
        assert_eq!(origin("http://x:80").as_str(), "http://x");
        assert_eq!(origin("http://x:8080").as_str(), "http://x:8080");
        assert_eq!(origin("http://x:08080").as_str(), "http://x:8080");
        assert_eq!(origin("https://x:").as_str(), "https://x");
        assert_eq!(origin("http://[::1]:9000").as_str(), "http://[::1]:9000");
        assert_eq!(
            Origin::from_parts("https", "API.example.com")
                .unwrap()
                .as_str(),
            "https://api.example.com"
        );
        for bad in [
            "x",
            "http://",
            "http://u@x",
            "http://x:99999x",
            "http://x/",
            "ws://x",
            "http://x:0",
            "http://[zz]",
            "http://a b",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn htu_compares_after_normalisation_without_query() {
        let o = origin("https://api.example.com");
        for htu in [
            "https://api.example.com/orders/1",
            "HTTPS://API.EXAMPLE.COM:443/orders/1",
            "https://api.example.com/orders/%31",
            "https://api.example.com/orders/./x/../1",
            "https://api.example.com/orders/1?debug=1#frag",
        ] {
            assert!(matches(htu, &o, "/orders/1?page=2"), "{htu}");
        }
        for htu in [
            "https://api.example.com/orders/2",
            "http://api.example.com/orders/1",
            "https://api.example.com:8443/orders/1",
            "https://evil.example.com/orders/1",
            "https://api.example.com/orders%2F1",
            "https://api.example.com/Orders/1",
            "https://api.example.com/orders/1/",
            "/orders/1",
            "https://api.example.com/orders/%zz",
            "",
        ] {
            assert!(!matches(htu, &o, "/orders/1"), "{htu}");
        }
        // Percent-encoded reserved bytes stay encoded on both sides, in upper case.
        assert!(matches("https://api.example.com/a%2fb", &o, "/a%2Fb"));
        assert!(matches("https://api.example.com", &o, "/"));
        assert!(!matches("https://api.example.com/x", &o, "x"));
        assert!(!matches("https://api.example.com/x", &o, "/x y"));
    }

    #[test]
    fn dot_segments_follow_rfc_3986() {
        for (input, output) in [
            ("/a/b/c/./../../g", "/a/g"),
            ("/mid/content=5/../6", "/mid/6"),
            ("/..", "/"),
            ("/a/..", "/"),
            ("/a/.", "/a/"),
            ("/a//b", "/a//b"),
            ("/", "/"),
        ] {
            assert_eq!(remove_dot_segments(input), output, "{input}");
        }
    }
}
