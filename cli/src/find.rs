//! Finding jwt-guard's plugin configurations in a document: a plugin configuration itself,
//! every `envoy.filters.http.wasm` filter of an Envoy bootstrap, listener or any resource
//! that embeds one (whose plugin is jwt-guard), Istio `WasmPlugin` and `TrafficExtension`
//! (`pluginConfig`) and Envoy Gateway `EnvoyExtensionPolicy` (`wasm[].config`). What the
//! Envoy file shows around each filter (its filter chain, `vm_id`, clusters) is kept for
//! the warnings.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// The root id jwt-guard registers.
pub const ROOT_ID: &str = "jwt_guard";

/// One jwt-guard configuration found.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where it is: the resource and filter (`listener api: http_filters[1]`, …).
    pub place: String,
    /// The plugin configuration as the filter receives it.
    pub bytes: Vec<u8>,
    /// Whether the surrounding configuration lets requests through when the plugin fails.
    pub fail_open: bool,
    /// The Envoy filter it is, when found in Envoy configuration.
    pub envoy: Option<EnvoyFilter>,
}

/// An Envoy wasm filter running jwt-guard.
#[derive(Debug, Clone)]
pub struct EnvoyFilter {
    /// `vm_config.vm_id` (empty when unset).
    pub vm_id: String,
    /// The names of the HTTP filters of its chain, in order, and its own index there.
    pub chain: Option<(Vec<String>, usize)>,
}

/// What an Envoy file defines that the warnings look at.
#[derive(Debug, Default)]
pub struct Clusters {
    /// Cluster name → whether it has a TLS transport socket.
    pub defined: HashMap<String, bool>,
    /// Whether every cluster is known from the file (static resources, no CDS).
    pub complete: bool,
}

impl Clusters {
    /// The clusters the documents define.
    pub fn of(docs: &[&Value]) -> Clusters {
        let mut found = Clusters::default();
        let mut has_static = false;
        let mut has_cds = false;
        for doc in docs {
            visit(doc, &mut |key, value| match key {
                "static_resources" => has_static = true,
                "cds_config" => has_cds = true,
                "clusters" => {
                    for c in value.as_array().into_iter().flatten() {
                        if let Some(name) = c.get("name").and_then(Value::as_str) {
                            found.defined.insert(name.to_string(), has_tls(c));
                        }
                    }
                }
                _ => {}
            });
        }
        found.complete = has_static && !has_cds;
        found
    }
}

/// Calls `f` with every key and value of every object in `value`, depth first.
fn visit(value: &Value, f: &mut impl FnMut(&str, &Value)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                f(k, v);
                visit(v, f);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| visit(v, f)),
        _ => {}
    }
}

fn has_tls(cluster: &Value) -> bool {
    let socket = cluster.get("transport_socket");
    let named = socket
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .is_some_and(|n| n.contains("tls"));
    let typed = socket
        .and_then(|s| s.get("typed_config"))
        .and_then(|t| t.get("@type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t.ends_with("UpstreamTlsContext"));
    named || typed
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn mentions_us(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("jwt_guard") || s.contains("jwt-guard")
}

fn has_providers(config: &Value) -> bool {
    config.get("providers").is_some()
}

/// A JSON value (an inline plugin configuration) as the bytes the filter receives.
fn json_bytes(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// Every jwt-guard configuration of a document (`raw`: its exact text, if JSON).
pub fn configurations(doc: &Value, raw: Option<&str>) -> Vec<Found> {
    if let Some(kind) = doc.get("kind").and_then(Value::as_str) {
        if doc.get("apiVersion").is_some() {
            return kubernetes(kind, doc);
        }
    }
    let is_envoy = [
        "static_resources",
        "filter_chains",
        "resources",
        "http_filters",
    ]
    .iter()
    .any(|k| contains_key(doc, k));
    if has_providers(doc) && !is_envoy {
        let bytes = raw.map_or_else(|| json_bytes(doc), |r| r.as_bytes().to_vec());
        return vec![Found {
            place: "plugin configuration".to_string(),
            bytes,
            fail_open: false,
            envoy: None,
        }];
    }
    envoy(doc)
}

fn contains_key(value: &Value, key: &str) -> bool {
    let mut found = false;
    visit(value, &mut |k, _| found |= k == key);
    found
}

fn resource_name(doc: &Value) -> String {
    let meta = doc.get("metadata");
    let name = meta.map_or("", |m| text(m, "name"));
    match meta.map_or("", |m| text(m, "namespace")) {
        "" => name.to_string(),
        ns => format!("{ns}/{name}"),
    }
}

fn kubernetes(kind: &str, doc: &Value) -> Vec<Found> {
    let spec = doc.get("spec").unwrap_or(&Value::Null);
    let place = format!("{kind} {}", resource_name(doc));
    match kind {
        "List" => doc
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|item| configurations(item, None))
            .collect(),
        "WasmPlugin" => istio(&place, spec, spec),
        "TrafficExtension" => istio(&place, spec, spec.get("wasm").unwrap_or(spec)),
        "EnvoyExtensionPolicy" => gateway(&place, spec),
        _ => envoy(doc)
            .into_iter()
            .map(|f| Found {
                place: format!("{place}: {}", f.place),
                ..f
            })
            .collect(),
    }
}

/// Istio: `pluginConfig` of a module whose `pluginName` (root id) or URL is jwt-guard's.
fn istio(place: &str, spec: &Value, wasm: &Value) -> Vec<Found> {
    let Some(config) = wasm.get("pluginConfig") else {
        return vec![];
    };
    let ours = text(wasm, "pluginName") == ROOT_ID
        || mentions_us(text(wasm, "url"))
        || has_providers(config);
    if !ours {
        return vec![];
    }
    let strategy = |v: &Value| text(v, "failStrategy") == "FAIL_OPEN";
    vec![Found {
        place: place.to_string(),
        bytes: json_bytes(config),
        fail_open: strategy(wasm) || strategy(spec),
        envoy: None,
    }]
}

/// Envoy Gateway: every `wasm[]` entry whose root id, name or image is jwt-guard's.
fn gateway(place: &str, spec: &Value) -> Vec<Found> {
    let entries = spec.get("wasm").and_then(Value::as_array);
    entries
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, entry)| {
            let config = entry.get("config")?;
            let code = entry.get("code").map(Value::to_string).unwrap_or_default();
            let ours = text(entry, "rootID") == ROOT_ID
                || mentions_us(text(entry, "name"))
                || mentions_us(&code)
                || has_providers(config);
            ours.then(|| Found {
                place: format!("{place}: wasm[{i}]"),
                bytes: json_bytes(config),
                fail_open: entry.get("failOpen").and_then(Value::as_bool) == Some(true),
                envoy: None,
            })
        })
        .collect()
}

/// Whether an Envoy HTTP filter entry is the wasm filter.
fn is_wasm_filter(filter: &Map<String, Value>) -> bool {
    let named = filter.get("name").and_then(Value::as_str) == Some("envoy.filters.http.wasm");
    let typed = filter
        .get("typed_config")
        .and_then(|t| t.get("@type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t.ends_with("envoy.extensions.filters.http.wasm.v3.Wasm"));
    named || typed
}

/// Every jwt-guard wasm filter in an Envoy document, with its place and filter chain.
fn envoy(doc: &Value) -> Vec<Found> {
    let mut out = Vec::new();
    walk_envoy(doc, &mut Vec::new(), None, &mut out);
    out
}

/// Depth-first walk; `trail` names the resources passed through (listener names),
/// `chain` is the enclosing `http_filters` list when `value` is one of its entries.
fn walk_envoy(
    value: &Value,
    trail: &mut Vec<String>,
    chain: Option<(&[String], usize)>,
    out: &mut Vec<Found>,
) {
    match value {
        Value::Object(map) => {
            if is_wasm_filter(map) {
                if let Some(found) = wasm_filter(map, trail, chain) {
                    out.push(found);
                }
                return;
            }
            let listener = map.contains_key("filter_chains");
            let pushed = match map.get("name").and_then(Value::as_str) {
                Some(name) if listener => {
                    trail.push(format!("listener {name}"));
                    true
                }
                _ => false,
            };
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("http_filters", Value::Array(filters)) => {
                        let names: Vec<String> = filters
                            .iter()
                            .map(|f| text(f, "name").to_string())
                            .collect();
                        for (i, f) in filters.iter().enumerate() {
                            walk_envoy(f, trail, Some((&names, i)), out);
                        }
                    }
                    _ => walk_envoy(v, trail, None, out),
                }
            }
            if pushed {
                trail.pop();
            }
        }
        Value::Array(items) => items.iter().for_each(|v| walk_envoy(v, trail, None, out)),
        _ => {}
    }
}

/// The plugin configuration value of a `PluginConfig`: a `StringValue`'s text, or a
/// `Struct` as JSON; `None` without one.
fn plugin_bytes(config: &Value) -> Option<Vec<u8>> {
    let configuration = config.get("configuration")?;
    match configuration.get("value") {
        Some(Value::String(s)) => Some(s.clone().into_bytes()),
        Some(other) => Some(json_bytes(other)),
        None => Some(Vec::new()),
    }
}

fn wasm_filter(
    filter: &Map<String, Value>,
    trail: &[String],
    chain: Option<(&[String], usize)>,
) -> Option<Found> {
    let typed = filter.get("typed_config")?;
    let config = typed.get("config")?;
    let vm = config.get("vm_config").unwrap_or(&Value::Null);
    let code = vm.get("code").map(Value::to_string).unwrap_or_default();
    let bytes = plugin_bytes(config).unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    let ours = text(config, "root_id") == ROOT_ID
        || mentions_us(&code)
        || parsed.as_ref().is_some_and(has_providers);
    if !ours {
        return None;
    }
    let fail_open = config.get("fail_open").and_then(Value::as_bool) == Some(true)
        || text(config, "failure_policy") == "FAIL_OPEN";
    let mut place: Vec<String> = trail.to_vec();
    place.push(match chain {
        Some((_, i)) => format!("http_filters[{i}] ({})", text(config, "name")),
        None => format!("wasm filter {}", text(config, "name")),
    });
    Some(Found {
        place: place.join(": "),
        bytes,
        fail_open,
        envoy: Some(EnvoyFilter {
            vm_id: text(vm, "vm_id").to_string(),
            chain: chain.map(|(names, i)| (names.to_vec(), i)),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wasm(root_id: &str, vm_id: &str, configuration: &str) -> Value {
        json!({
            "name": "envoy.filters.http.wasm",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "config": {
                    "name": root_id, "root_id": root_id,
                    "vm_config": {"vm_id": vm_id, "code": {"local": {"filename": "x.wasm"}}},
                    "configuration": {
                        "@type": "type.googleapis.com/google.protobuf.StringValue",
                        "value": configuration
                    }
                }
            }
        })
    }

    #[test]
    fn every_jwt_guard_filter_of_a_listener_with_its_chain() {
        let doc = json!({"static_resources": {"listeners": [{
            "name": "api",
            "address": {},
            "filter_chains": [{"filters": [{"typed_config": {"http_filters": [
                {"name": "envoy.filters.http.cors"},
                wasm("jwt_guard", "vm", "{\"a\":1}"),
                wasm("other", "vm", "{}"),
                {"name": "envoy.filters.http.router"}
            ]}}]}]
        }]}});
        let found = configurations(&doc, None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].place, "listener api: http_filters[1] (jwt_guard)");
        assert_eq!(found[0].bytes, b"{\"a\":1}");
        let (chain, i) = found[0].envoy.as_ref().unwrap().chain.clone().unwrap();
        assert_eq!((chain[0].as_str(), i), ("envoy.filters.http.cors", 1));
    }

    #[test]
    fn a_filter_is_ours_by_its_configuration_alone() {
        let doc = json!({"http_filters": [wasm("auth", "", "{\"providers\":[]}")]});
        assert_eq!(configurations(&doc, None).len(), 1);
    }

    #[test]
    fn istio_and_gateway_resources() {
        let plugin = json!({"apiVersion": "extensions.istio.io/v1alpha1", "kind": "WasmPlugin",
            "metadata": {"name": "g", "namespace": "api"},
            "spec": {"pluginName": "jwt_guard", "failStrategy": "FAIL_OPEN", "pluginConfig": {"x": 1}}});
        let found = configurations(&plugin, None);
        assert_eq!(found[0].place, "WasmPlugin api/g");
        assert_eq!(found[0].bytes, b"{\"x\":1}");
        assert!(found[0].fail_open);
        let ext = json!({"apiVersion": "x/v1", "kind": "TrafficExtension", "metadata": {"name": "t"},
            "spec": {"wasm": {"url": "oci://r/jwt-guard:1", "pluginConfig": {"y": 2}}}});
        assert_eq!(configurations(&ext, None)[0].place, "TrafficExtension t");
        let eep = json!({"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "EnvoyExtensionPolicy",
            "metadata": {"name": "p"},
            "spec": {"wasm": [{"name": "other", "config": {}}, {"rootID": "jwt_guard", "config": {"z": 3}}]}});
        let found = configurations(&eep, None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].place, "EnvoyExtensionPolicy p: wasm[1]");
        let other =
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {}});
        assert!(configurations(&other, None).is_empty());
    }

    #[test]
    fn plugin_configuration_keeps_its_raw_text() {
        let doc = json!({"providers": []});
        let found = configurations(&doc, Some("{ \"providers\" : [] }"));
        assert_eq!(found[0].bytes, b"{ \"providers\" : [] }");
    }

    #[test]
    fn clusters_and_their_tls() {
        let doc = json!({"static_resources": {"clusters": [
            {"name": "plain"},
            {"name": "tls", "transport_socket": {"name": "envoy.transport_sockets.tls"}}
        ]}});
        let c = Clusters::of(&[&doc]);
        assert!(c.complete);
        assert_eq!(c.defined.get("plain"), Some(&false));
        assert_eq!(c.defined.get("tls"), Some(&true));
        let dynamic = json!({"static_resources": {}, "dynamic_resources": {"cds_config": {}}});
        assert!(!Clusters::of(&[&dynamic]).complete);
    }
}
