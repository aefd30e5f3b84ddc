//! Running the binary, temporary files, the test key and tokens.

use jwt_simple::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// What one run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for "never printed" checks.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `jwt-guard args...` with `stdin`.
pub fn run(args: &[&str], stdin: &str) -> Run {
    run_env(args, stdin, &[])
}

/// Runs `jwt-guard args...` with `stdin` and extra environment variables.
pub fn run_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwt-guard"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A directory removed when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("jwt-guard-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    /// Writes `name` (subdirectories created) and returns its path as text.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rsa() -> &'static RS256KeyPair {
    static KEY: OnceLock<RS256KeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        RS256KeyPair::from_pem(include_str!("../../../src/testdata/rsa2048.pem")).unwrap()
    })
}

fn b64(bytes: &[u8]) -> String {
    jwt_guard::b64::encode(bytes)
}

/// The test key's public JWK under `kid`.
pub fn rsa_jwk(kid: &str) -> String {
    let c = rsa().public_key().to_components();
    format!(
        r#"{{"kty":"RSA","use":"sig","kid":"{kid}","alg":"RS256","n":"{}","e":"{}"}}"#,
        b64(&c.n),
        b64(&c.e)
    )
}

/// A JWKS of the test key under `kid`.
pub fn jwks(kid: &str) -> String {
    format!(r#"{{"keys":[{}]}}"#, rsa_jwk(kid))
}

/// The issuer and audience of the test configurations.
pub const ISSUER: &str = "https://idp.test/";
pub const AUDIENCE: &str = "api";
/// The time the tests decide at.
pub const NOW: u64 = 1_800_000_000;

/// An RS256 token under `kid` for the test issuer and audience, valid from `NOW - 10`
/// until `exp`, with these extra claims (JSON object text).
pub fn token_until(kid: &str, extra: &str, exp: u64) -> String {
    let custom: serde_json::Map<String, serde_json::Value> = serde_json::from_str(extra).unwrap();
    let mut claims = Claims::with_custom_claims(custom, Duration::from_secs(300));
    claims.issued_at = Some(UnixTimeStamp::from_secs(NOW - 10));
    claims.invalid_before = None;
    claims.expires_at = Some(UnixTimeStamp::from_secs(exp));
    claims.issuer = Some(ISSUER.into());
    claims.audiences = Some(Audiences::AsString(AUDIENCE.into()));
    rsa().clone().with_key_id(kid).sign(claims).unwrap()
}

/// A token valid at [`NOW`].
pub fn token(kid: &str, extra: &str) -> String {
    token_until(kid, extra, NOW + 300)
}

/// A plugin configuration: one remote provider `idp` and these extra top-level members.
pub fn plugin(extra: &str) -> String {
    let sep = if extra.is_empty() { "" } else { "," };
    format!(
        r#"{{"providers":[{{"name":"idp","issuer":"{ISSUER}","audiences":["{AUDIENCE}"],
            "jwks_uri":"https://idp.test/jwks","jwks_cluster":"idp"}}]{sep}{extra}}}"#
    )
}

/// Asserts `out` shows nothing of `token`: not whole, nor any of its segments.
pub fn assert_secret(out: &str, token: &str) {
    assert!(!out.contains(token), "the token was printed:\n{out}");
    for part in token.split('.').filter(|p| !p.is_empty()) {
        assert!(!out.contains(part), "a token segment was printed:\n{out}");
    }
}
