//! What `explain` reports about a decided request, as text or one JSON object, with every
//! trace of the token (whole, or any of its segments) replaced by `<redacted>`.

use super::request::Headers;
use jwt_guard::config::Config;
use jwt_guard::lifecycle::{Counter, Outcome};
use jwt_guard::reject::{Reason, Reply};
use serde_json::{json, Map, Value};

/// Shortest piece of a credential hidden on its own (a JWS segment is longer; scheme
/// names are shorter).
const MIN_SECRET_LEN: usize = 8;

/// One rule choice: the rule a (method, path reading) pair selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Index in `rules`, `None` when no rule matches (a valid token is then required).
    pub rule: Option<usize>,
    pub method: String,
    pub reading: String,
    /// The reading of the host, when a rule has `hosts`.
    pub host: Option<String>,
    /// Whether the match needed ASCII case folding of the prefix.
    pub folded: bool,
}

/// The token as the report may name it: decoded `kid`, `alg` and `iss`, never its text.
#[derive(Debug, Default, Clone)]
struct Named {
    kid: Option<String>,
    alg: Option<String>,
    iss: Option<String>,
}

/// The explained outcome.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub status: u32,
    /// Whether the request goes on upstream (exit 0).
    pub allowed: bool,
    /// The refusal's reason, as the metric names it (`expired`, …).
    pub reason: Option<String>,
    pub www_authenticate: Vec<String>,
    pub retry_after: Option<String>,
    pub body: Option<String>,
    /// On a `report`-mode route: the status and reason enforcement would answer.
    pub report_would: Option<(u32, String)>,
    pub choices: Vec<Choice>,
    pub rules_error: Option<String>,
    pub provider: Option<String>,
    pub verified: bool,
    pub kid: Option<String>,
    pub alg: Option<String>,
    pub issuer: Option<String>,
    /// Headers jwt-guard sets for the upstream.
    pub forwarded: Vec<(String, String)>,
    /// Every header the upstream would receive.
    pub upstream: Vec<(String, String)>,
    /// Inbound headers removed because jwt-guard sets them.
    pub stripped: Vec<String>,
    /// What happened on the way (key fetches, the filter's log).
    pub notes: Vec<String>,
    /// Texts never to print.
    secrets: Vec<String>,
}

/// The rule each (method, reading) pair selects, as the route policy chooses it
/// (`jwt_guard::policy::choices`, the filter's own walk), one line per distinct rule.
pub fn choices(
    config: &Config,
    method: &str,
    path: &str,
    overrides: &[String],
    route: &jwt_guard::policy::Route<'_>,
) -> Result<Vec<Choice>, String> {
    let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let all =
        jwt_guard::policy::choices(config, method, path, &overrides, route).map_err(
            |d| match d {
                jwt_guard::reject::Denial::Ambiguous(why) => why.to_string(),
                other => other.reason().name().to_string(),
            },
        )?;
    let mut out: Vec<Choice> = Vec::new();
    if let Some(named) = all.named {
        // The rule the route's metadata names applies to every reading.
        out.push(Choice {
            rule: Some(named),
            method: method.to_string(),
            reading: "(named by the route's metadata)".to_string(),
            host: None,
            folded: false,
        });
    }
    for c in all.each {
        if !out.iter().any(|o| o.rule == c.rule) {
            out.push(Choice {
                rule: c.rule,
                method: c.method,
                reading: String::from_utf8_lossy(&c.reading).into_owned(),
                host: c.host,
                folded: c.folded,
            });
        }
    }
    Ok(out)
}

fn decode_json(segment: &str) -> Option<Value> {
    let bytes = jwt_guard::b64::decode(segment.as_bytes())?;
    serde_json::from_slice(&bytes).ok()
}

fn named(token: &str) -> Named {
    let mut parts = token.split('.');
    let header = parts.next().and_then(decode_json);
    let payload = parts.next().and_then(decode_json);
    let s = |v: &Option<Value>, k: &str| {
        v.as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Named {
        kid: s(&header, "kid"),
        alg: s(&header, "alg"),
        iss: s(&payload, "iss"),
    }
}

/// Everything that must not be printed: the token, and every credential-bearing header
/// value given (token headers, `DPoP`), whole and in pieces (words, cookie values, JWS
/// segments) long enough to matter.
fn secrets(token: Option<&str>, headers: &Headers, config: &Config) -> Vec<String> {
    let mut names: Vec<&str> = config.token_headers();
    names.extend(["authorization", "dpop", "cookie"]);
    let values = headers
        .map
        .iter()
        .filter(|(n, _)| names.contains(&n.as_str()))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
    let mut whole: Vec<String> = token
        .map(str::to_string)
        .into_iter()
        .chain(values)
        .collect();
    let pieces: Vec<String> = whole
        .iter()
        .flat_map(|v| v.split([' ', '\t', ',', ';', '=', '.']).map(str::to_string))
        .collect();
    whole.extend(pieces);
    whole.retain(|s| s.len() >= MIN_SECRET_LEN);
    whole.sort_by_key(|s| std::cmp::Reverse(s.len()));
    whole.dedup();
    whole
}

impl Explanation {
    fn base(headers: &Headers, config: &Config, token: Option<&str>, notes: Vec<String>) -> Self {
        let method = headers.get(":method").unwrap_or_default();
        let path = headers.get(":path").unwrap_or_default();
        let parts = headers.parts(config);
        let route = parts.route();
        let (choices, rules_error) =
            match choices(config, &method, &path, &parts.read.overrides, &route) {
                Ok(c) => (c, None),
                Err(e) => (vec![], Some(e)),
            };
        let token_named = token.map(named).unwrap_or_default();
        let provider = token_named
            .iss
            .as_deref()
            .and_then(|iss| config.provider_for(iss))
            .map(|(_, p)| p.name.clone());
        Explanation {
            status: 200,
            allowed: true,
            reason: None,
            www_authenticate: vec![],
            retry_after: None,
            body: None,
            report_would: None,
            choices,
            rules_error,
            provider,
            verified: false,
            kid: token_named.kid,
            alg: token_named.alg,
            issuer: token_named.iss,
            forwarded: vec![],
            upstream: vec![],
            stripped: headers.stripped.clone(),
            notes,
            secrets: secrets(token, headers, config),
        }
    }

    fn refused(&mut self, reply: &Reply, reason: Option<Reason>) {
        self.status = reply.status;
        self.allowed = false;
        self.reason = reason.map(|r| r.name().to_string());
        for (name, value) in &reply.headers {
            match *name {
                "www-authenticate" => self.www_authenticate.push(value.clone()),
                "retry-after" => self.retry_after = Some(value.clone()),
                _ => {}
            }
        }
        self.body = Some(reply.body.clone());
    }

    /// A request for the protected-resource metadata document, answered locally.
    pub fn metadata(reply: Reply, headers: &Headers, config: &Config, notes: Vec<String>) -> Self {
        let mut e = Explanation::base(headers, config, None, notes);
        e.refused(&reply, None);
        e.allowed = reply.status == 200;
        e.notes
            .push("answered locally with the protected-resource metadata document".into());
        e
    }

    /// The report of `outcome`, given the counters the worker incremented deciding it.
    pub fn new(
        outcome: Outcome,
        counted: &[(Counter, u64)],
        headers: &Headers,
        config: &Config,
        token: Option<&str>,
        notes: Vec<String>,
    ) -> Self {
        let mut e = Explanation::base(headers, config, token, notes);
        match outcome {
            Outcome::Reply(denial) => {
                let reason = denial.reason();
                // Refused for what a verified token grants, not for the token itself.
                e.verified = token.is_some()
                    && matches!(
                        reason,
                        Reason::InsufficientScope
                            | Reason::InsufficientUserAuthentication
                            | Reason::ClaimRule
                    );
                e.refused(&denial.reply_for(&config.offer), Some(reason));
            }
            Outcome::Continue(set) => {
                e.report_would = counted.iter().find_map(|(c, _)| match c {
                    Counter::Reported(r) => Some((r.status(), r.name().to_string())),
                    _ => None,
                });
                e.verified = token.is_some() && e.report_would.is_none();
                let mut upstream: Vec<(String, String)> = headers
                    .map
                    .iter()
                    .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                    .collect();
                for (name, value) in &set {
                    upstream.retain(|(n, _)| n != name);
                    upstream.push((name.clone(), value.clone()));
                }
                e.forwarded = set;
                e.upstream = upstream;
            }
            Outcome::Wait => {}
        }
        e
    }

    /// `text` with every secret replaced.
    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), "<redacted>");
        }
        out
    }

    fn rule_line(&self, config: &Config, c: &Choice) -> String {
        let rule = match c.rule.and_then(|i| config.rules.get(i).map(|r| (i, r))) {
            Some((i, r)) => {
                let m = &r.matchers;
                let mut what: Vec<String> = m
                    .path
                    .iter()
                    .map(|p| format!("{} {:?}", p.key(), p.text()))
                    .collect();
                if !m.hosts.is_empty() {
                    what.push(format!("hosts {:?}", m.hosts));
                }
                if !m.route_names.is_empty() {
                    what.push(format!("route_names {:?}", m.route_names));
                }
                if !r.methods.is_empty() {
                    what.push(format!("methods {}", r.methods.join(",")));
                }
                if r.allow_anonymous {
                    what.push("anonymous".into());
                }
                if !r.scopes.is_empty() {
                    what.push(format!("scopes {}", r.scopes.join(" ")));
                }
                if r.mode == jwt_guard::config::Mode::Report {
                    what.push("report mode".into());
                }
                format!("rules[{i}] ({})", what.join(", "))
            }
            None => "no rule (a valid token is required)".into(),
        };
        let folded = if c.folded {
            ", prefix case ignored"
        } else {
            ""
        };
        let host = c
            .host
            .as_ref()
            .map_or(String::new(), |h| format!(" on host {h:?}"));
        format!(
            "{rule} under reading {:?}{host} as {}{folded}",
            c.reading, c.method
        )
    }

    /// The report as text.
    pub fn text(&self, config: &Config) -> String {
        let mut out = String::new();
        let verdict = if self.allowed { "allowed" } else { "refused" };
        out.push_str(&format!("status: {} ({verdict})\n", self.status));
        if let Some(r) = &self.reason {
            out.push_str(&format!("reason: {r} (metric jwt_guard.denied.{r})\n"));
        }
        for w in &self.www_authenticate {
            out.push_str(&format!("www-authenticate: {w}\n"));
        }
        if let Some(r) = &self.retry_after {
            out.push_str(&format!("retry-after: {r}\n"));
        }
        if let Some(b) = &self.body {
            if !b.is_empty() && !self.allowed {
                out.push_str(&format!("body: {b}\n"));
            }
        }
        if let Some((status, reason)) = &self.report_would {
            out.push_str(&format!(
                "report mode: enforced, this would be {status} {reason} (metric jwt_guard.report.{reason})\n"
            ));
        }
        match &self.rules_error {
            Some(e) => out.push_str(&format!("rule: none ({e})\n")),
            None => {
                if self.choices.len() > 1 {
                    out.push_str("rules (the readings select several; the strictest applies):\n");
                    for c in &self.choices {
                        out.push_str(&format!("  {}\n", self.rule_line(config, c)));
                    }
                } else if let Some(c) = self.choices.first() {
                    out.push_str(&format!("rule: {}\n", self.rule_line(config, c)));
                }
            }
        }
        let kid = self
            .kid
            .as_ref()
            .map_or("no kid".to_string(), |k| format!("kid {k:?}"));
        let alg = self.alg.as_deref().unwrap_or("?");
        match (&self.provider, &self.issuer) {
            (Some(p), _) if self.verified => out.push_str(&format!(
                "provider: {p} verified the token ({kid}, {alg})\n"
            )),
            (Some(p), _) => out.push_str(&format!(
                "provider: {p} (the token's issuer; {kid}, {alg}); not verified\n"
            )),
            (None, Some(iss)) => out.push_str(&format!(
                "provider: none trusts the token's issuer {iss:?} ({kid}, {alg})\n"
            )),
            (None, None) => {}
        }
        if !self.stripped.is_empty() {
            out.push_str(&format!(
                "removed inbound: {} (jwt-guard sets these)\n",
                self.stripped.join(", ")
            ));
        }
        if self.allowed && self.body.is_none() {
            out.push_str("upstream receives:\n");
            for (n, v) in &self.upstream {
                let mark = if self.forwarded.iter().any(|(f, _)| f == n) {
                    "  (set by jwt-guard)"
                } else {
                    ""
                };
                out.push_str(&format!("  {n}: {v}{mark}\n"));
            }
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        self.scrub(&out)
    }

    /// The report as one JSON object.
    pub fn json(&self, config: &Config) -> String {
        let rules: Vec<Value> = self
            .choices
            .iter()
            .map(|c| {
                json!({
                    "rule": c.rule,
                    "matcher": c.rule.and_then(|i| config.rules.get(i)).and_then(|r| r.matchers.path.as_ref()).map(|p| json!({ p.key(): p.text() })),
                    "reading": c.reading,
                    "host": c.host,
                    "method": c.method,
                    "case_folded": c.folded,
                })
            })
            .collect();
        let forwarded: Map<String, Value> = self
            .forwarded
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect();
        let upstream: Vec<Value> = self.upstream.iter().map(|(n, v)| json!([n, v])).collect();
        let body: Option<Value> = self
            .body
            .as_deref()
            .map(|b| serde_json::from_str(b).unwrap_or_else(|_| Value::String(b.to_string())));
        let doc = json!({
            "status": self.status,
            "allowed": self.allowed,
            "reason": self.reason,
            "metric": self.reason.as_ref().map(|r| format!("jwt_guard.denied.{r}")),
            "www_authenticate": self.www_authenticate,
            "retry_after": self.retry_after,
            "body": body,
            "report_would": self.report_would.as_ref().map(|(s, r)| json!({"status": s, "reason": r})),
            "rules": rules,
            "rules_error": self.rules_error,
            "provider": self.provider,
            "verified": self.verified,
            "kid": self.kid,
            "alg": self.alg,
            "issuer": self.issuer,
            "forwarded": forwarded,
            "upstream_headers": upstream,
            "stripped": self.stripped,
            "notes": self.notes,
        });
        self.scrub_json(doc).to_string()
    }

    /// `value` with every secret replaced in every string (keys included).
    fn scrub_json(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.scrub(&s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.scrub_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.scrub(&k), self.scrub_json(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_credentials_whole_and_in_pieces() {
        let config = Config::parse(
            br#"{"providers":[{"name":"p","issuer":"https://i/","audiences":["a"],"jwks_cluster":"c"}]}"#,
        )
        .unwrap();
        let headers = Headers {
            map: vec![
                (
                    "authorization".into(),
                    b"Bearer aaaaaaaa.bb.cccccccc".to_vec(),
                ),
                ("x-other".into(), b"not-a-secret-value".to_vec()),
            ],
            stripped: vec![],
            route_name: None,
            route_rule: None,
        };
        let s = secrets(Some("tttttttt.uuuu"), &headers, &config);
        assert_eq!(
            s,
            [
                "Bearer aaaaaaaa.bb.cccccccc",
                "tttttttt.uuuu",
                "tttttttt",
                "aaaaaaaa",
                "cccccccc"
            ]
        );
    }

    #[test]
    fn the_token_names_its_kid_and_issuer() {
        let h = jwt_guard::b64::encode(br#"{"alg":"RS256","kid":"k1"}"#);
        let p = jwt_guard::b64::encode(br#"{"iss":"https://i/"}"#);
        let n = named(&format!("{h}.{p}.sig"));
        assert_eq!(n.kid.as_deref(), Some("k1"));
        assert_eq!(n.alg.as_deref(), Some("RS256"));
        assert_eq!(n.iss.as_deref(), Some("https://i/"));
        assert!(named("garbage").kid.is_none());
    }
}
