//! `jwt-guard check FILE...`: every jwt-guard configuration found is parsed with the
//! filter's own parser; in Envoy files, what the file shows around the filter is checked
//! too (clusters, TLS, `fail_open`, CORS order, one fetch per `vm_id`).

use crate::find::{self, Clusters, Found};
use crate::input::{self, Source};
use jwt_guard::config::{Config, KeySource};
use std::collections::BTreeMap;
use std::io::Write;

/// Exit status: every configuration valid.
pub const VALID: u8 = 0;
/// Exit status: some configuration invalid (or, with `--strict`, a warning).
pub const INVALID: u8 = 1;
/// Exit status: an input unreadable, or no input holds a jwt-guard configuration.
pub const UNUSABLE: u8 = 2;

/// The tally of a run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub valid: usize,
    pub invalid: usize,
    pub warnings: usize,
    pub unreadable: usize,
    pub skipped: usize,
}

impl Tally {
    /// The exit status: 2 before 1 before 0.
    pub fn status(&self, strict: bool) -> u8 {
        if self.unreadable > 0 || self.valid + self.invalid == 0 {
            UNUSABLE
        } else if self.invalid > 0 || (strict && self.warnings > 0) {
            INVALID
        } else {
            VALID
        }
    }
}

/// Checks every input named by `args`, writing one line per finding to `out`.
pub fn run(args: &[String], strict: bool, out: &mut dyn Write) -> std::io::Result<Tally> {
    let (sources, failures) = input::expand(args);
    let mut tally = Tally::default();
    for (name, why) in failures {
        writeln!(out, "{name}: unreadable: {why}")?;
        tally.unreadable += 1;
    }
    let several = sources.len() > 1;
    for source in &sources {
        check_source(source, strict, several, out, &mut tally)?;
    }
    writeln!(
        out,
        "{} valid, {} invalid, {} warnings, {} skipped, {} unreadable",
        tally.valid, tally.invalid, tally.warnings, tally.skipped, tally.unreadable
    )?;
    Ok(tally)
}

fn check_source(
    source: &Source,
    strict: bool,
    several: bool,
    out: &mut dyn Write,
    tally: &mut Tally,
) -> std::io::Result<()> {
    let name = source.name();
    let text = match source.read() {
        Ok(text) => text,
        Err(why) => {
            tally.unreadable += 1;
            return writeln!(out, "{name}: unreadable: {why}");
        }
    };
    let docs = match input::documents(&name, &text) {
        Ok(docs) => docs,
        Err(why) => {
            tally.invalid += 1;
            return writeln!(out, "{name}: {why}");
        }
    };
    let multi = docs.len() > 1;
    let mut found: Vec<Found> = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        for f in find::configurations(&doc.value, doc.raw.as_deref()) {
            let place = if multi {
                format!("document {}: {}", i + 1, f.place)
            } else {
                f.place.clone()
            };
            found.push(Found { place, ..f });
        }
    }
    if found.is_empty() {
        tally.skipped += 1;
        if several {
            writeln!(out, "{name}: skipped (no jwt-guard configuration)")?;
        } else {
            writeln!(out, "{name}: no jwt-guard configuration found")?;
        }
        return Ok(());
    }
    let values: Vec<&serde_json::Value> = docs.iter().map(|d| &d.value).collect();
    let clusters = Clusters::of(&values);
    let severity = if strict { "error" } else { "warning" };
    let mut parsed: Vec<(&Found, Config)> = Vec::new();
    for f in &found {
        match Config::parse(&f.bytes) {
            Ok(config) => {
                let warnings = warnings(f, &config, &clusters);
                for w in &warnings {
                    writeln!(out, "{name}: {}: {severity}: {w}", f.place)?;
                }
                tally.warnings += warnings.len();
                tally.valid += 1;
                writeln!(
                    out,
                    "{name}: {}: valid ({} provider(s), {} rule(s))",
                    f.place,
                    config.providers.len(),
                    config.rules.len()
                )?;
                parsed.push((f, config));
            }
            Err(e) => {
                tally.invalid += 1;
                writeln!(out, "{name}: {}: {}: {}", f.place, e.field, e.kind)?;
            }
        }
    }
    for (place, w) in vm_warnings(&parsed) {
        writeln!(out, "{name}: {place}: {severity}: {w}")?;
        tally.warnings += 1;
    }
    Ok(())
}

/// The clusters a provider calls, each with the URL scheme it is called for.
fn provider_clusters(keys: &KeySource) -> Vec<(&str, &str, bool)> {
    let https = |url: &str| url.starts_with("https://");
    match keys {
        KeySource::Inline(_) => vec![],
        KeySource::Remote(r) => vec![("jwks_cluster", r.cluster.as_str(), https(&r.uri))],
        KeySource::Discovered(d) => {
            let tls = https(&d.plan.issuer);
            let mut out = vec![("jwks_cluster", d.jwks_cluster.as_str(), tls)];
            if d.discovery_cluster != d.jwks_cluster {
                out.push(("discovery_cluster", d.discovery_cluster.as_str(), tls));
            }
            out
        }
    }
}

/// What the file shows that will hurt at run time, for one valid configuration.
pub fn warnings(found: &Found, config: &Config, clusters: &Clusters) -> Vec<String> {
    let mut out = Vec::new();
    if found.fail_open {
        out.push("fail_open is set: when the plugin fails, requests pass unchecked".to_string());
    }
    let Some(filter) = &found.envoy else {
        return out;
    };
    for p in &config.providers {
        for (field, cluster, https) in provider_clusters(&p.keys) {
            match clusters.defined.get(cluster) {
                None if clusters.complete => out.push(format!(
                    "providers[{}].{field}: cluster {cluster:?} is not defined in this file",
                    p.name
                )),
                Some(false) if https => out.push(format!(
                    "providers[{}].{field}: cluster {cluster:?} has no TLS transport socket, \
                     but the provider's URL is https",
                    p.name
                )),
                _ => {}
            }
        }
    }
    if let Some((names, own)) = &filter.chain {
        let cors_after = names
            .iter()
            .skip(own.saturating_add(1))
            .any(|n| n == "envoy.filters.http.cors");
        if cors_after {
            out.push(
                "the CORS filter comes after jwt-guard: browser preflights (no token) get 401; \
                 put envoy.filters.http.cors first"
                    .to_string(),
            );
        }
    }
    out
}

/// The same provider (issuer and key location) under several `vm_id`s: each VM fetches on
/// its own.
fn vm_warnings(parsed: &[(&Found, Config)]) -> Vec<(String, String)> {
    let mut seen: BTreeMap<String, Vec<(&str, &str)>> = BTreeMap::new();
    for (found, config) in parsed {
        let Some(filter) = &found.envoy else {
            continue;
        };
        for p in &config.providers {
            let location = match &p.keys {
                KeySource::Inline(_) => continue,
                KeySource::Remote(r) => r.uri.clone(),
                KeySource::Discovered(d) => d.plan.openid.url.clone(),
            };
            let key = format!("{} ({location})", p.issuer);
            let vms = seen.entry(key).or_default();
            if !vms.iter().any(|(vm, _)| *vm == filter.vm_id) {
                vms.push((&filter.vm_id, &found.place));
            }
        }
    }
    seen.into_iter()
        .filter(|(_, vms)| vms.len() > 1)
        .map(|(provider, vms)| {
            let ids: Vec<String> = vms.iter().map(|(vm, _)| format!("{vm:?}")).collect();
            let place = vms.first().map_or("", |(_, p)| p).to_string();
            let w = format!(
                "provider {provider} appears under vm_ids {}: each VM fetches its keys \
                 on its own (one fetch per vm_id); use one vm_id",
                ids.join(", ")
            );
            (place, w)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_order() {
        let t = |valid, invalid, warnings, unreadable| Tally {
            valid,
            invalid,
            warnings,
            unreadable,
            skipped: 0,
        };
        assert_eq!(t(1, 0, 0, 0).status(false), VALID);
        assert_eq!(t(1, 0, 1, 0).status(false), VALID);
        assert_eq!(t(1, 0, 1, 0).status(true), INVALID);
        assert_eq!(t(1, 1, 0, 0).status(false), INVALID);
        assert_eq!(t(1, 1, 0, 1).status(false), UNUSABLE);
        assert_eq!(t(0, 0, 0, 0).status(false), UNUSABLE);
    }
}
