//! Every plausible reading of a request path. Envoy's router, intermediaries and the
//! upstream may each read `:path` differently (no normalisation, RFC 3986 dot-segment
//! removal, one or several rounds of percent-decoding, `\` as `/`, merged slashes,
//! Servlet-style `;` parameters dropped), so a rule is chosen for each reading and the
//! strictest applies. The set is small and fixed: at most 6 bases × 16 transform
//! combinations, each linear in a path of at most [`MAX_JUDGED_PATH`] bytes.

use std::borrow::Cow;
use std::collections::BTreeSet;

/// Longest path (before `?`) judged when it needs more than its raw reading.
pub const MAX_JUDGED_PATH: usize = 4096;
/// Most rounds of percent-decoding before a path counts as nested too deep to judge.
pub const MAX_DECODE_ROUNDS: usize = 8;

/// Why a path cannot be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path too long to judge")]
    TooLong,
    #[error("path escapes nested too deep to judge")]
    TooDeep,
}

/// The path without query or fragment.
pub fn path_part(path: &str) -> &[u8] {
    path.split(['?', '#']).next().unwrap_or("").as_bytes()
}

/// The distinct readings of `path` (query and fragment dropped first). A path without
/// `%`, `\`, `;`, `//` or dot segments has one reading: itself.
pub fn readings(path: &str) -> Result<Vec<Cow<'_, [u8]>>, PathError> {
    let raw = path_part(path);
    if plain(raw) {
        return Ok(vec![Cow::Borrowed(raw)]);
    }
    if raw.len() > MAX_JUDGED_PATH {
        return Err(PathError::TooLong);
    }
    let unparam = strip_params(raw);
    let mut bases: Vec<Vec<u8>> = Vec::with_capacity(6);
    for base in [
        raw.to_vec(),
        decode(raw),
        decode_fixpoint(raw)?,
        decode(&unparam),
        decode_fixpoint(&unparam)?,
        unparam,
    ] {
        if !bases.contains(&base) {
            bases.push(base);
        }
    }
    let mut out: BTreeSet<Vec<u8>> = BTreeSet::new();
    for base in &bases {
        let relevant = [
            base.contains(&b'\\'),
            base.contains(&b';'),
            base.windows(2)
                .any(|w| w.iter().all(|b| matches!(b, b'/' | b'\\'))),
            base.contains(&b'.'),
        ];
        for mask in 0u8..16 {
            let wanted = |bit: usize| mask & (1 << bit) != 0;
            if (0..4).any(|bit| wanted(bit) && !relevant.get(bit).copied().unwrap_or(false)) {
                continue;
            }
            let mut r = base.clone();
            if wanted(0) {
                r = backslash_as_slash(&r);
            }
            if wanted(1) {
                r = strip_params(&r);
            }
            if wanted(2) {
                r = merge_slashes(&r);
            }
            if wanted(3) {
                r = remove_dot_segments(&r);
            }
            out.insert(r);
        }
    }
    Ok(out.into_iter().map(Cow::Owned).collect())
}

/// Whether `raw` reads the same under every transformation.
fn plain(raw: &[u8]) -> bool {
    !raw.iter().any(|b| matches!(b, b'%' | b'\\' | b';'))
        && !raw.windows(2).any(|w| w == b"//")
        && !raw.split(|b| *b == b'/').any(|s| s == b"." || s == b"..")
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One round of percent-decoding (every valid `%XX`).
pub fn decode(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        let escaped = match (
            path.get(i + 1).copied().and_then(hex),
            path.get(i + 2).copied().and_then(hex),
        ) {
            (Some(h), Some(l)) if b == b'%' => Some(h << 4 | l),
            _ => None,
        };
        match escaped {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Percent-decoding repeated until nothing changes.
pub fn decode_fixpoint(path: &[u8]) -> Result<Vec<u8>, PathError> {
    let mut current = path.to_vec();
    for _ in 0..MAX_DECODE_ROUNDS {
        let next = decode(&current);
        if next == current {
            return Ok(current);
        }
        current = next;
    }
    if decode(&current) == current {
        Ok(current)
    } else {
        Err(PathError::TooDeep)
    }
}

/// `\` read as `/`.
pub fn backslash_as_slash(path: &[u8]) -> Vec<u8> {
    path.iter()
        .map(|&b| if b == b'\\' { b'/' } else { b })
        .collect()
}

/// Each segment cut at its first `;` (Servlet path parameters: `/a;x=1/..;/b` is `/a/../b`).
pub fn strip_params(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    let mut in_params = false;
    for &b in path {
        match b {
            b'/' => {
                in_params = false;
                out.push(b);
            }
            b';' => in_params = true,
            _ if !in_params => out.push(b),
            _ => {}
        }
    }
    out
}

/// Runs of `/` collapsed to one.
pub fn merge_slashes(path: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(path.len());
    for &b in path {
        if !(b == b'/' && out.last() == Some(&b'/')) {
            out.push(b);
        }
    }
    out
}

/// RFC 3986 §5.2.4 `remove_dot_segments` for an absolute path: a trailing `.` or `..`
/// segment leaves a trailing `/`; empty segments are kept. Other paths are returned as is.
pub fn remove_dot_segments(path: &[u8]) -> Vec<u8> {
    let Some(rest) = path.strip_prefix(b"/") else {
        return path.to_vec();
    };
    let segments: Vec<&[u8]> = rest.split(|b| *b == b'/').collect();
    let mut kept: Vec<&[u8]> = Vec::with_capacity(segments.len());
    let mut trailing = false;
    let last = segments.len().saturating_sub(1);
    for (i, s) in segments.iter().enumerate() {
        match *s {
            b"." => trailing = i == last,
            b".." => {
                kept.pop();
                trailing = i == last;
            }
            other => {
                kept.push(other);
                trailing = false;
            }
        }
    }
    let mut out = Vec::with_capacity(path.len());
    for s in &kept {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if trailing || out.is_empty() {
        out.push(b'/');
    }
    out
}
