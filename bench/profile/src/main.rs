//! Where does a jwt-guard verification spend its time? Times each step of the uncached
//! path natively, per algorithm, on tokens minted by the bench (bench/tokens.py):
//!
//!   profile TOKENS_DIR [--quick]        print a Markdown table of µs per step
//!   profile TOKENS_DIR --callgrind ALG  run only full decisions (cache off) for callgrind
//!
//! TOKENS_DIR holds jwks.json and <alg>-distinct.txt (one token per line). Built for
//! wasm32-wasip1 it runs under a WASI host (bench/profile/run-wasm.mjs: Node's V8), which
//! shows what each step costs as wasm; `--quick` uses fewer tokens there, where RSA is slow.

use jwt_guard::authz::{self, Context, Request, Verdict};
use jwt_guard::cache::{self, TokenCache};
use jwt_guard::config::{Config, KeySource, DEFAULT_TOKEN_CACHE_SIZE};
use jwt_guard::jwks::KeySet;
use jwt_guard::sender::mtls::NO_CERTIFICATE;
use jwt_guard::token::{self, Jws};
use jwt_guard::signature::jwtsimple::JwtSimple;
use jwt_guard::signature::SignatureCheck;
use jwt_guard::verify::{self, Verified, Window};
use jwt_simple::prelude::{Base64UrlSafeNoPadding, JWTClaims, NoCustomClaims, Token};
use jwt_simple::reexports::ct_codecs::Decoder;
use jwt_simple::reexports::serde_json;
use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const TOKENS_PER_ALG: usize = 1000;
const QUICK_TOKENS_PER_ALG: usize = 150;
const ROUNDS: usize = 5;
const CALLGRIND_DECISIONS: usize = 200;
const ALGS: [&str; 2] = ["RS256", "ES256"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1).map(Path::new) else {
        eprintln!("usage: profile TOKENS_DIR [--callgrind ALG]");
        return ExitCode::from(2);
    };
    match run(dir, args.get(2).map(String::as_str), args.get(3).map(String::as_str)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("profile: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Setup {
    config: Config,
    now: u64,
}

impl Setup {
    fn load(dir: &Path, cache_size: usize) -> Result<Setup, String> {
        let jwks = std::fs::read_to_string(dir.join("jwks.json")).map_err(|e| format!("jwks.json: {e}"))?;
        let plugin = serde_json::json!({
            "providers": [{
                "name": "bench",
                "issuer": "https://bench-tenant.eu.auth0.com/",
                "audiences": ["https://api.example.com"],
                "jwks": jwks,
            }],
            "token_cache_size": cache_size,
        });
        let config = Config::parse(plugin.to_string().as_bytes()).map_err(|e| e.to_string())?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs();
        Ok(Setup { config, now })
    }

    fn keys(&self) -> Result<&KeySet, String> {
        match self.config.providers.first().map(|p| &p.keys) {
            Some(KeySource::Inline(set)) => Ok(set),
            _ => Err("expected inline keys".into()),
        }
    }

    /// One full decision, as the filter makes it for a request with this token.
    fn decide(&self, bearer: &str, cache: &mut TokenCache) -> Verdict {
        let ctx = Context { config: &self.config, now: self.now, backend: &JwtSimple, sender: None };
        let auth = [("authorization", bearer)];
        let req = Request {
            method: "GET",
            path: "/",
            token_headers: &auth,
            method_overrides: &[],
            dpop: &[],
            origin: None,
            peer_certificate: &NO_CERTIFICATE,
            route: Default::default(),
        };
        let keys = self.keys().ok();
        authz::decide(&ctx, &req, |_| keys, cache)
    }
}

fn tokens(dir: &Path, alg: &str, count: usize) -> Result<Vec<String>, String> {
    let path = dir.join(format!("{}-distinct.txt", alg.to_lowercase()));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().filter(|l| !l.is_empty()).take(count).map(str::to_string).collect())
}

/// Median over rounds of the mean µs per item of `step`, after one untimed round (a JIT
/// compiles hot wasm functions again once they are hot).
fn time_per_item<T>(items: &[T], mut step: impl FnMut(&T)) -> f64 {
    for item in items {
        step(item);
    }
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t0 = Instant::now();
            for item in items {
                step(item);
            }
            t0.elapsed().as_secs_f64() * 1e6 / items.len().max(1) as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds.get(ROUNDS / 2).copied().unwrap_or(0.0)
}

/// What jwt-simple's verify_token decodes again after jwt-guard's own parse: the header
/// (JSON), the signature and the claims (JSON into JWTClaims).
fn jwt_simple_redecode(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let meta = Token::decode_metadata(token).is_ok();
    let sig = Base64UrlSafeNoPadding::decode_to_vec(sig, None).is_ok();
    let claims = Base64UrlSafeNoPadding::decode_to_vec(payload, None)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<JWTClaims<NoCustomClaims>>(&bytes).ok());
    meta && sig && claims.is_some()
}

/// µs per insert of a new token into a full cache of the default size: the cost a miss
/// pays on top of verification once more distinct tokens arrive than the cache holds.
fn insert_into_full_cache(toks: &[String], now: u64) -> f64 {
    let entry = || Verified {
        provider: 0,
        key: [7; 32],
        window: Window { exp: now + 3600, not_before: now },
        granted: vec!["openid".into(), "profile".into(), "read:messages".into()],
        headers: vec![],
        withheld: 0,
        cnf: Default::default(),
        auth: Default::default(),
        unmet: vec![],
    };
    let mut cache = TokenCache::new(DEFAULT_TOKEN_CACHE_SIZE);
    for i in 0..DEFAULT_TOKEN_CACHE_SIZE {
        cache.insert(cache::digest(&format!("fill-{i}")), entry(), now, 60);
    }
    // Every round needs digests the cache has not seen (a replaced entry evicts nothing).
    let mut rounds: Vec<f64> = (0..=ROUNDS)
        .map(|round| {
            let digests: Vec<_> = toks.iter().map(|t| cache::digest(&format!("{round}{t}"))).collect();
            let t0 = Instant::now();
            for d in &digests {
                cache.insert(*d, entry(), now, 60);
            }
            t0.elapsed().as_secs_f64() * 1e6 / digests.len().max(1) as f64
        })
        .skip(1) // warm-up round
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds.get(ROUNDS / 2).copied().unwrap_or(0.0)
}

fn run(dir: &Path, mode: Option<&str>, which: Option<&str>) -> Result<(), String> {
    if mode == Some("--callgrind") {
        let alg = which.ok_or("--callgrind needs an algorithm")?;
        let setup = Setup::load(dir, 0)?;
        let toks = tokens(dir, alg, CALLGRIND_DECISIONS)?;
        let bearers: Vec<String> = toks.iter().take(CALLGRIND_DECISIONS).map(|t| format!("Bearer {t}")).collect();
        let mut cache = TokenCache::new(0);
        for b in &bearers {
            let verdict = setup.decide(b, &mut cache);
            if !matches!(verdict, Verdict::Allow { .. }) {
                return Err(format!("{alg}: token refused: {verdict:?}"));
            }
        }
        return Ok(());
    }

    let quick = mode == Some("--quick");
    let mut rows: Vec<(&str, Vec<f64>)> = vec![
        ("`cache::digest` of the token (cache key)", vec![]),
        ("`token::parse`: base64url + header/claims JSON (jwt-guard)", vec![]),
        ("`verify::check_claims`: exp/nbf/aud", vec![]),
        ("`JwtSimple.check` = jwt-simple `verify_token` (total)", vec![]),
        ("  of which jwt-simple re-decodes header, signature, claims", vec![]),
        ("  of which signature math (difference)", vec![]),
        ("**full `authz::decide`, cache off** (one verification)", vec![]),
        ("full `authz::decide`, cache hit", vec![]),
        ("`TokenCache::insert` into a full 4096-entry cache (eviction)", vec![]),
    ];
    for alg in ALGS {
        let off = Setup::load(dir, 0)?;
        let on = Setup::load(dir, 10_000)?;
        let count = if quick { QUICK_TOKENS_PER_ALG } else { TOKENS_PER_ALG };
        let toks = tokens(dir, alg, count)?;
        let bearers: Vec<String> = toks.iter().map(|t| format!("Bearer {t}")).collect();
        let keys = off.keys()?;
        let provider = off.config.providers.first().ok_or("no provider")?;
        let parsed: Vec<Jws<'_>> = toks
            .iter()
            .map(|t| token::parse(t, 8192).map_err(|e| format!("{alg} token: {e:?}")))
            .collect::<Result<_, _>>()?;
        // Sanity: every token verifies, so the timings are of the success path.
        for jws in &parsed {
            verify::verify(jws, provider, keys, off.now, 60, &JwtSimple).map_err(|e| format!("{alg}: {e:?}"))?;
        }
        let digest = time_per_item(&toks, |t| {
            black_box(cache::digest(t));
        });
        let parse = time_per_item(&toks, |t| {
            black_box(token::parse(t, 8192).is_ok());
        });
        let claims = time_per_item(&parsed, |j| {
            black_box(verify::check_claims(&j.claims, provider, off.now, 60).is_ok());
        });
        let check = time_per_item(&parsed, |j| {
            let key = keys.candidates(j.kid.as_deref(), j.alg).next();
            black_box(key.map(|k| JwtSimple.check(k, j).is_ok()));
        });
        let redecode = time_per_item(&toks, |t| {
            black_box(jwt_simple_redecode(t));
        });
        let decide_off = time_per_item(&bearers, |b| {
            let mut cache = TokenCache::new(0);
            black_box(matches!(off.decide(b, &mut cache), Verdict::Allow { .. }));
        });
        let mut cache = TokenCache::new(10_000);
        for b in &bearers {
            on.decide(b, &mut cache);
        }
        let decide_hit = time_per_item(&bearers, |b| {
            black_box(matches!(on.decide(b, &mut cache), Verdict::Allow { .. }));
        });
        let evict = insert_into_full_cache(&toks, on.now);
        let values = [digest, parse, claims, check, redecode, check - redecode, decide_off, decide_hit, evict];
        for (row, v) in rows.iter_mut().zip(values) {
            row.1.push(v);
        }
    }
    let build = if cfg!(target_arch = "wasm32") { "wasm" } else { "native" };
    println!("| step ({build}, release) | {} µs | {} µs |", ALGS[0], ALGS[1]);
    println!("|---|---:|---:|");
    for (name, v) in &rows {
        let cells: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    Ok(())
}
