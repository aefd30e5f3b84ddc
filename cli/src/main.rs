//! `jwt-guard`: the filter's command-line twin, built from the same core crate. `check`
//! validates configurations before they ship, `explain` decides one request natively and
//! says why, `jwks` shows a key set as the filter sees it.

mod check;
mod explain;
mod fetch;
mod find;
mod input;
mod jwks;
mod logs;

use clap::{Parser, Subcommand};
use explain::keys::Keys;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::ExitCode;

/// Exit status for a usage or configuration error (and unreadable input).
const USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "jwt-guard",
    version,
    about = "Check jwt-guard configurations, explain a refusal, inspect a JWKS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate every jwt-guard configuration in the files (plugin JSON, Envoy bootstrap or
    /// listener, Istio WasmPlugin/TrafficExtension, Envoy Gateway EnvoyExtensionPolicy;
    /// directories are walked for *.yaml, *.yml, *.json; - is stdin).
    /// Exit 0: all valid; 1: one invalid; 2: a file unreadable or no configuration found.
    Check {
        /// Turn warnings into errors.
        #[arg(long)]
        strict: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
    },
    /// Decide one request as the filter would and say why.
    /// Exit 0: allowed; 1: refused; 2: usage or configuration error.
    Explain(Box<ExplainArgs>),
    /// List each key of a JWKS as jwt-guard sees it, and its problems.
    /// Exit 0: no problems; 1: problems; 2: unreadable or not a JWKS.
    Jwks {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// A JWKS file, an http(s) URL, or - for stdin.
        #[arg(value_name = "FILE|URL")]
        source: String,
    },
}

#[derive(clap::Args)]
struct ExplainArgs {
    /// The configuration: plugin JSON, or any file `check` reads that holds one.
    #[arg(long, value_name = "FILE")]
    config: String,
    /// JWKS for every remote provider (FILE) or for one (NAME=FILE); repeatable.
    #[arg(long, value_name = "FILE|NAME=FILE", conflicts_with = "fetch")]
    jwks: Vec<String>,
    /// Fetch each provider's JWKS from its jwks_uri (or by discovery) over HTTPS;
    /// SSL_CERT_FILE names a PEM file of trusted roots instead of the built-in ones.
    #[arg(long)]
    fetch: bool,
    #[arg(long, default_value = "GET", value_name = "M")]
    method: String,
    /// The request target (:path), query included.
    #[arg(long, default_value = "/", value_name = "P")]
    path: String,
    /// The :authority.
    #[arg(long, value_name = "H")]
    host: Option<String>,
    /// The name of the Envoy route the request matched (xds.route_name), for rules with
    /// route_names.
    #[arg(long, value_name = "NAME")]
    route_name: Option<String>,
    /// The rule the matched route's metadata names (filter_metadata.jwt_guard.rule).
    #[arg(long, value_name = "NAME")]
    route_rule: Option<String>,
    /// A request header, 'Name: value'; repeatable (bytes that are not UTF-8 are read as
    /// the filter reads them, as U+FFFD).
    #[arg(long = "header", value_name = "'Name: value'", value_parser = clap::value_parser!(std::ffi::OsString))]
    headers: Vec<std::ffi::OsString>,
    /// The time to decide at, in seconds since the epoch (default: now).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The token, or - to read it from stdin (keeps it out of shell history); omit it to
    /// explain a request without one (or with the headers given).
    #[arg(value_name = "TOKEN|-")]
    token: Option<String>,
}

fn read_stdin_token() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| format!("stdin: {e}"))?;
    let token = text.trim().to_string();
    if token.is_empty() {
        return Err("stdin: no token".into());
    }
    Ok(token)
}

fn keys_of(args: &ExplainArgs) -> Result<Keys, String> {
    if args.fetch {
        return Ok(Keys::Fetch);
    }
    if args.jwks.is_empty() {
        return Ok(Keys::Nothing);
    }
    let mut all = None;
    let mut named = HashMap::new();
    for spec in &args.jwks {
        let (name, file) = match spec.split_once('=') {
            Some((n, f)) if !n.is_empty() && !n.contains('/') => (Some(n), f),
            _ => (None, spec.as_str()),
        };
        let body = std::fs::read(file).map_err(|e| format!("--jwks {file}: {e}"))?;
        match name {
            Some(n) => {
                named.insert(n.to_string(), body);
            }
            None => all = Some(body),
        }
    }
    Ok(Keys::Files { all, named })
}

fn run_explain(args: &ExplainArgs) -> Result<u8, String> {
    let token = match args.token.as_deref() {
        Some("-") => Some(read_stdin_token()?),
        Some("") => return Err("empty token".into()),
        other => other.map(str::to_string),
    };
    if args.config == "-" && args.token.as_deref() == Some("-") {
        return Err("--config - and TOKEN - cannot both read stdin".into());
    }
    let inputs = explain::Inputs {
        config: args.config.clone(),
        keys: keys_of(args)?,
        method: args.method.clone(),
        path: args.path.clone(),
        host: args.host.clone(),
        headers: args
            .headers
            .iter()
            .map(|h| h.to_string_lossy().into_owned())
            .collect(),
        route_name: args.route_name.clone(),
        route_rule: args.route_rule.clone(),
        now: args.now,
        token,
    };
    let (mut e, config) = explain::run(&inputs).map_err(|u| u.0)?;
    e.notes.extend(logs::take());
    let text = if args.json {
        e.json(&config) + "\n"
    } else {
        e.text(&config)
    };
    print(&text);
    Ok(if e.allowed { 0 } else { 1 })
}

fn run_jwks(source: &str, json: bool) -> Result<u8, String> {
    let body = if source.starts_with("https://") || source.starts_with("http://") {
        let r = fetch::get(source)?;
        if r.status != 200 {
            return Err(format!("{source}: HTTP status {}", r.status));
        }
        r.body
    } else {
        let src = if source == "-" {
            input::Source::Stdin
        } else {
            input::Source::File(source.into())
        };
        src.read()
            .map_err(|e| format!("{source}: {e}"))?
            .into_bytes()
    };
    let report = jwks::inspect(&body).map_err(|e| format!("{source}: {e}"))?;
    let text = if json {
        jwks::json(source, &report).to_string() + "\n"
    } else {
        jwks::text(source, &report)
    };
    print(&text);
    Ok(u8::from(report.has_problems()))
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logs::install();
    let status = match &cli.command {
        Command::Check { strict, files } => {
            let mut out = std::io::stdout().lock();
            match check::run(files, *strict, &mut out) {
                Ok(tally) => Ok(tally.status(*strict)),
                Err(e) => Err(e.to_string()),
            }
        }
        Command::Explain(args) => run_explain(args),
        Command::Jwks { json, source } => run_jwks(source, *json),
    };
    match status {
        Ok(code) => ExitCode::from(code),
        Err(why) => {
            eprintln!("jwt-guard: {why}");
            ExitCode::from(USAGE)
        }
    }
}
