//! Inputs: files, directories (walked for `*.yaml`, `*.yml` and `*.json`) and `-` for
//! stdin, each read into its documents as JSON values (YAML is converted, every document
//! of a multi-document stream kept).

use serde_json::{Map, Number, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// Largest input file read, in bytes (a configuration is far smaller).
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Where an input comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file, named as the user named it (or as found under a directory).
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Source {
    /// The name printed in front of every message about this input.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }

    /// The whole input as text.
    pub fn read(&self) -> Result<String, String> {
        let mut bytes = Vec::new();
        let read = match self {
            Source::File(p) => std::fs::File::open(p)
                .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)),
            Source::Stdin => std::io::stdin()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes),
        };
        read.map_err(|e| e.to_string())?;
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return Err(format!("larger than {MAX_INPUT_BYTES} bytes"));
        }
        String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
    }
}

/// Whether a file found under a directory is one to read.
fn wanted(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// The inputs `args` name, directories walked in name order; an unreadable directory is
/// returned as a failure (its name and why).
pub fn expand(args: &[String]) -> (Vec<Source>, Vec<(String, String)>) {
    let mut sources = Vec::new();
    let mut failures = Vec::new();
    for arg in args {
        if arg == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        if path.is_dir() {
            walk(&path, &mut sources, &mut failures);
        } else {
            sources.push(Source::File(path));
        }
    }
    (sources, failures)
}

fn walk(dir: &Path, sources: &mut Vec<Source>, failures: &mut Vec<(String, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            failures.push((dir.display().to_string(), e.to_string()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, sources, failures);
        } else if wanted(&path) {
            sources.push(Source::File(path));
        }
    }
}

/// One document of an input.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document as JSON.
    pub value: Value,
    /// The exact text when the input is a single JSON document: a plugin configuration
    /// is then checked byte for byte as Envoy would pass it.
    pub raw: Option<String>,
}

/// The documents of `text`: JSON when it is JSON (or named `.json`), else YAML.
pub fn documents(name: &str, text: &str) -> Result<Vec<Document>, String> {
    let trimmed = text.trim_start();
    let looks_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    let mut json_error = None;
    if name.ends_with(".json") || looks_json {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                return Ok(vec![Document {
                    value,
                    raw: Some(text.to_string()),
                }])
            }
            Err(e) if name.ends_with(".json") => return Err(format!("not JSON: {e}")),
            // `{a: 1}` is YAML (flow mapping) but not JSON.
            Err(e) => json_error = Some(e),
        }
    }
    let docs = YamlLoader::load_from_str(text).map_err(|e| match &json_error {
        Some(j) => format!("not JSON: {j}"),
        None => format!("not YAML: {e}"),
    })?;
    Ok(docs
        .iter()
        .filter(|d| !matches!(d, Yaml::Null))
        .map(|d| Document {
            value: to_json(d),
            raw: None,
        })
        .collect())
}

/// A YAML node as JSON (mapping keys become strings, as Kubernetes and Envoy read them).
pub fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| Value::String(text.clone()), Value::Number),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (k, v) in hash {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Null => "null".to_string(),
                    other => to_json(other).to_string(),
                };
                map.insert(key, to_json(v));
            }
            Value::Object(map)
        }
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_streams_keep_every_document_as_json() {
        let docs = documents(
            "a.yaml",
            "a: 1\nb: [x, 2.5, true]\n---\n---\nc: {d: null}\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2, "the empty document is dropped");
        assert_eq!(
            docs[0].value,
            serde_json::json!({"a": 1, "b": ["x", 2.5, true]})
        );
        assert_eq!(docs[1].value, serde_json::json!({"c": {"d": null}}));
        assert!(docs[0].raw.is_none());
    }

    #[test]
    fn json_keeps_its_exact_text() {
        let text = "{\"providers\": []}\n";
        let docs = documents("-", text).unwrap();
        assert_eq!(docs[0].raw.as_deref(), Some(text));
        assert!(documents("x.json", "{a: 1}").is_err());
        let flow = documents("x.yaml", "{a: 1}").unwrap();
        assert_eq!(flow[0].value, serde_json::json!({"a": 1}));
    }

    #[test]
    fn bad_yaml_is_an_error_not_a_panic() {
        assert!(documents("x.yaml", "a: [1, 2\n").is_err());
        assert!(documents("x.yaml", "a: b: c\n").is_err());
    }
}
