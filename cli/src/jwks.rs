//! `jwt-guard jwks FILE|URL`: each key of a JWKS as the filter sees it (`kid`, type, size
//! or curve, declared `alg`, the algorithms it will verify), and its problems: duplicate or
//! missing `kid`, private members, RSA under 2048 bits, keys the filter ignores and why.

use jwt_guard::alg::Algorithm;
use jwt_guard::jwks::{JwksError, KeySet};
use serde_json::{json, Map, Value};

/// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// One key's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    pub index: usize,
    pub kid: Option<String>,
    pub kty: String,
    /// `2048 bits`, `P-256`, …
    pub size: String,
    pub alg: Option<String>,
    /// What the filter verifies with it by default (the `alg`, else the type's default).
    pub accepted: Vec<Algorithm>,
    /// What it verifies for a provider whose `algorithms` lists every algorithm (a key
    /// without `alg` then serves every algorithm of its type).
    pub accepted_if_listed: Vec<Algorithm>,
    /// Why the filter ignores it, if it does.
    pub ignored: Option<String>,
    pub problems: Vec<String>,
}

/// The report of a whole document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub keys: Vec<KeyReport>,
    /// Problems of the document as a whole.
    pub problems: Vec<String>,
}

impl Report {
    /// Whether anything is wrong.
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty() || self.keys.iter().any(|k| !k.problems.is_empty())
    }
}

fn rsa_bits(n: &str) -> Option<usize> {
    let bytes = jwt_guard::b64::decode(n.as_bytes())?;
    let start = bytes.iter().position(|b| *b != 0)?;
    let first = *bytes.get(start)?;
    Some((bytes.len() - start - 1) * 8 + (8 - first.leading_zeros() as usize))
}

fn usable(entry: &Value, listed: bool) -> Result<Vec<Algorithm>, JwksError> {
    let doc = json!({ "keys": [entry] }).to_string();
    let set = if listed {
        KeySet::parse_listed(doc.as_bytes(), &Algorithm::ALL)
    } else {
        KeySet::parse(doc.as_bytes(), &Algorithm::ALL)
    }?;
    Ok(Algorithm::ALL
        .into_iter()
        .filter(|a| set.candidates(None, *a).next().is_some())
        .collect())
}

/// Why one key was refused, without the document-level wrapping.
fn why_ignored(e: &JwksError) -> String {
    match e {
        JwksError::NoUsableKey(why) => why
            .split_once("): ")
            .map_or(why.as_str(), |(_, w)| w)
            .to_string(),
        other => other.to_string(),
    }
}

fn key_report(index: usize, entry: &Value, kid_counts: &Map<String, Value>) -> KeyReport {
    let s = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_string);
    let kid = s("kid");
    let kty = s("kty").unwrap_or_else(|| "?".into());
    let size = match (kty.as_str(), s("crv"), s("n")) {
        ("RSA", _, Some(n)) => rsa_bits(&n).map_or("? bits".into(), |b| format!("{b} bits")),
        (_, Some(crv), _) => crv,
        _ => "?".into(),
    };
    let mut problems = Vec::new();
    match &kid {
        None => problems.push(
            "no kid: a token must then name no kid either, and every key of its type is tried"
                .to_string(),
        ),
        Some(k) if kid_counts.get(k).and_then(Value::as_u64).unwrap_or(0) > 1 => {
            problems.push(format!("kid {k:?} is not unique in this JWKS"))
        }
        _ => {}
    }
    let private: Vec<&str> = PRIVATE_MEMBERS
        .into_iter()
        .filter(|m| entry.get(*m).is_some())
        .collect();
    if !private.is_empty() {
        problems.push(format!(
            "private key members present ({}): this key is leaked; publish only the public part",
            private.join(", ")
        ));
    }
    if let Some(bits) = (kty == "RSA")
        .then(|| s("n").and_then(|n| rsa_bits(&n)))
        .flatten()
    {
        if bits < 2048 {
            problems.push(format!("RSA key of {bits} bits: under 2048 bits"));
        }
    }
    let (accepted, ignored) = match usable(entry, false) {
        Ok(algs) => (algs, None),
        Err(e) => (vec![], Some(why_ignored(&e))),
    };
    let accepted_if_listed = usable(entry, true).unwrap_or_default();
    if let Some(why) = &ignored {
        problems.push(format!("ignored by jwt-guard: {why}"));
    }
    KeyReport {
        index,
        kid,
        kty,
        size,
        alg: s("alg"),
        accepted,
        accepted_if_listed,
        ignored,
        problems,
    }
}

/// The report of a JWKS text; `Err` when it is not a JSON object with a `keys` array.
pub fn inspect(body: &[u8]) -> Result<Report, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let entries = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("not a JWKS: no \"keys\" array")?;
    let mut kid_counts = Map::new();
    for kid in entries.iter().filter_map(|e| e.get("kid")?.as_str()) {
        let n = kid_counts.get(kid).and_then(Value::as_u64).unwrap_or(0);
        kid_counts.insert(kid.to_string(), Value::from(n + 1));
    }
    let keys: Vec<KeyReport> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| key_report(i, e, &kid_counts))
        .collect();
    let mut problems = Vec::new();
    match KeySet::parse(body, &Algorithm::ALL) {
        Ok(set) => {
            for why in set.skipped() {
                if why.contains("more than once") || why.contains("beyond the first") {
                    problems.push(format!("ignored by jwt-guard: {why}"));
                }
            }
        }
        Err(e) => problems.push(format!("jwt-guard refuses this JWKS: {e}")),
    }
    Ok(Report { keys, problems })
}

fn names(algs: &[Algorithm]) -> Vec<&'static str> {
    algs.iter().map(|a| a.name()).collect()
}

/// The report as text, one line per key, then the problems.
pub fn text(source: &str, report: &Report) -> String {
    let mut out = format!("{source}: {} key(s)\n", report.keys.len());
    for k in &report.keys {
        let kid = k
            .kid
            .as_ref()
            .map_or("(no kid)".to_string(), |k| format!("{k:?}"));
        let accepted = if k.accepted.is_empty() {
            "ignored".to_string()
        } else {
            format!("accepted for {}", names(&k.accepted).join(", "))
        };
        let listed = if !k.accepted_if_listed.is_empty() && k.accepted_if_listed != k.accepted {
            format!(
                " ({} when a provider lists them in algorithms)",
                names(&k.accepted_if_listed).join(", ")
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  key {}: kid {kid}, {} {}, alg {}: {accepted}{listed}\n",
            k.index,
            k.kty,
            k.size,
            k.alg.as_deref().unwrap_or("(none)")
        ));
    }
    let problems: Vec<String> = report
        .keys
        .iter()
        .flat_map(|k| {
            k.problems
                .iter()
                .map(move |p| format!("key {}: {p}", k.index))
        })
        .chain(report.problems.iter().cloned())
        .collect();
    if problems.is_empty() {
        out.push_str("no problems found\n");
    } else {
        out.push_str("problems:\n");
        for p in problems {
            out.push_str(&format!("  {p}\n"));
        }
    }
    out
}

/// The report as one JSON object.
pub fn json(source: &str, report: &Report) -> Value {
    let keys: Vec<Value> = report
        .keys
        .iter()
        .map(|k| {
            json!({
                "index": k.index,
                "kid": k.kid,
                "kty": k.kty,
                "size": k.size,
                "alg": k.alg,
                "accepted": names(&k.accepted),
                "accepted_if_listed": names(&k.accepted_if_listed),
                "ignored": k.ignored,
                "problems": k.problems,
            })
        })
        .collect();
    json!({ "source": source, "keys": keys, "problems": report.problems })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_sizes_ignore_leading_zero_bytes() {
        assert_eq!(rsa_bits("AQAB"), Some(17));
        assert_eq!(rsa_bits("AAEA"), Some(9));
        assert_eq!(rsa_bits("AAAA"), None);
        assert_eq!(rsa_bits("not base64!"), None);
    }

    #[test]
    fn not_a_jwks() {
        assert!(inspect(b"[]").is_err());
        assert!(inspect(b"{").is_err());
        assert!(inspect(b"{\"keys\": {}}").is_err());
    }

    #[test]
    fn an_unknown_key_type_is_ignored_with_its_reason() {
        let r = inspect(br#"{"keys":[{"kty":"oct","kid":"s","k":"AAAA"}]}"#).unwrap();
        let k = &r.keys[0];
        assert!(k.accepted.is_empty());
        assert!(k
            .ignored
            .as_deref()
            .unwrap()
            .contains("unsupported key type"));
        assert!(k
            .problems
            .iter()
            .any(|p| p.contains("private key members present (k)")));
        assert!(r.problems.iter().any(|p| p.contains("refuses this JWKS")));
    }
}
