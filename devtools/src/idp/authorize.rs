//! The browser side of the Authorization Code Flow with PKCE: `GET /authorize` checks
//! the request the way Auth0 does, shows the login page (or reuses the sign-in session),
//! and sends a single-use code back to the app; `POST /login` signs a demo user in;
//! `GET /v2/logout` ends the session.
//!
//! Errors about the client or its `redirect_uri` are shown on a page (never sent to an
//! unregistered address); other errors go back to the app like a code does, with
//! `error`, `error_description` and `state`.

use std::sync::Arc;

use axum::extract::{Query, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::config::{origin_of, IdpConfig, User};
use super::tokens::{granted_user_scope, UserGrant};
use super::{lock, random_id, unix_now, Idp};

/// The sign-in session cookie (HttpOnly, SameSite=Lax).
pub const SESSION_COOKIE: &str = "dev_idp_session";
/// How long an authorization code can be exchanged.
pub const CODE_TTL_S: u64 = 60;
/// Most codes or sessions kept at once.
const MAX_ENTRIES: usize = 10_000;

/// A code waiting to be exchanged at the token endpoint.
#[derive(Debug, Clone)]
pub struct PendingCode {
    pub grant: UserGrant,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_at: u64,
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub auth_time: u64,
}

/// The query of `GET /authorize` (unknown parameters, like the SDK's `auth0Client`, are
/// ignored; a repeated parameter is refused).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub response_mode: Option<String>,
    pub prompt: Option<String>,
}

/// How the answer reaches the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// A redirect to `redirect_uri?code=…&state=…`.
    Query,
    /// A page that posts the answer to the window that opened or framed it (silent
    /// authentication in a hidden iframe, or a popup).
    WebMessage,
}

/// Where and how to answer an authorization request.
#[derive(Debug, Clone)]
pub struct ReplyTo {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub reply: ReplyTo,
    pub scope: String,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<String>,
}

/// Why an authorization request was refused.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// Shown on the IdP's own page: the client or the redirect_uri is not trusted.
    Page(String),
    /// Sent back to the app.
    Reply(ReplyTo, &'static str, String),
}

/// A PKCE code challenge (S256): 43 base64url characters.
fn is_code_challenge(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a code verifier against its S256 challenge (RFC 7636 §4.6).
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    use jwt_simple::prelude::*;
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed
        && Base64UrlSafeNoPadding::encode_to_string(Sha256::digest(verifier.as_bytes()))
            .is_ok_and(|computed| computed == challenge)
}

/// Checks an authorization request against the SPA client's registration.
pub fn check(config: &IdpConfig, params: &AuthorizeParams) -> Result<Authorization, Refusal> {
    let client_id = params.client_id.as_deref().unwrap_or_default();
    if client_id != config.spa_client_id {
        return Err(Refusal::Page(format!(
            "Unknown client: {client_id:?} (this IdP has one SPA client, {:?})",
            config.spa_client_id
        )));
    }
    let Some(redirect_uri) = params.redirect_uri.clone() else {
        return Err(Refusal::Page(
            "Missing required parameter: redirect_uri".into(),
        ));
    };
    if !config.callback_urls.contains(&redirect_uri) {
        return Err(Refusal::Page(format!(
            "Callback URL mismatch. {redirect_uri} is not in the list of allowed callback URLs"
        )));
    }
    let mode = match params.response_mode.as_deref() {
        None | Some("query") => ResponseMode::Query,
        Some("web_message") => {
            let allowed = origin_of(&redirect_uri)
                .is_some_and(|origin| config.web_origins.iter().any(|o| o == origin));
            if !allowed {
                return Err(Refusal::Page(format!(
                    "The origin of {redirect_uri} is not an allowed web origin (web_message)"
                )));
            }
            ResponseMode::WebMessage
        }
        Some(other) => {
            return Err(Refusal::Page(format!(
                "Unsupported response_mode: {other} (use query or web_message)"
            )))
        }
    };
    let reply = ReplyTo {
        redirect_uri,
        mode,
        state: params.state.clone(),
    };
    let refuse = |error: &'static str, description: String| {
        Err(Refusal::Reply(reply.clone(), error, description))
    };
    if params.response_type.as_deref() != Some("code") {
        return refuse(
            "unsupported_response_type",
            "Unsupported response type: use response_type=code".into(),
        );
    }
    let challenge = params.code_challenge.as_deref().unwrap_or_default();
    if params.code_challenge_method.as_deref() != Some("S256") {
        return refuse(
            "invalid_request",
            "code_challenge_method must be S256 (plain is not accepted)".into(),
        );
    }
    if !is_code_challenge(challenge) {
        return refuse(
            "invalid_request",
            "code_challenge must be the 43-character base64url SHA-256 of the verifier".into(),
        );
    }
    if let Some(audience) = params.audience.as_deref().filter(|a| !a.is_empty()) {
        if !config.audiences.iter().any(|a| a == audience) {
            return refuse("access_denied", format!("Service not found: {audience}"));
        }
    }
    match params.prompt.as_deref() {
        None | Some("none") | Some("login") | Some("consent") => {}
        Some(other) => return refuse("invalid_request", format!("Unsupported prompt: {other}")),
    }
    Ok(Authorization {
        reply: reply.clone(),
        scope: params.scope.clone().unwrap_or_else(|| "openid".into()),
        audience: params.audience.clone().filter(|a| !a.is_empty()),
        nonce: params.nonce.clone(),
        code_challenge: challenge.to_string(),
        prompt: params.prompt.clone(),
    })
}

impl Idp {
    /// The browser's session id and session, if it is signed in.
    fn session(&self, jar: &CookieJar) -> Option<(String, Session)> {
        let sid = Self::session_id(jar)?;
        let session = lock(&self.sessions).get(&sid).cloned()?;
        Some((sid, session))
    }

    fn session_id(jar: &CookieJar) -> Option<String> {
        jar.get(SESSION_COOKIE).map(|c| c.value().to_string())
    }

    /// Issues a single-use code for `user`.
    fn issue_code(
        &self,
        request: &Authorization,
        user: &User,
        sid: &str,
        auth_time: u64,
    ) -> Option<String> {
        let now = unix_now();
        let grant = UserGrant {
            user: user.clone(),
            scope: granted_user_scope(&request.scope, user, request.audience.is_some()),
            audience: request.audience.clone(),
            nonce: request.nonce.clone(),
            sid: sid.to_string(),
            auth_time,
        };
        let mut codes = lock(&self.codes);
        codes.retain(|_, pending| pending.expires_at > now);
        if codes.len() >= MAX_ENTRIES {
            return None;
        }
        let code = random_id();
        codes.insert(
            code.clone(),
            PendingCode {
                grant,
                redirect_uri: request.reply.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                expires_at: now.saturating_add(CODE_TTL_S),
            },
        );
        Some(code)
    }

    /// Takes a code out (codes are single use); `None` if unknown or expired.
    pub fn take_code(&self, code: &str) -> Option<PendingCode> {
        let pending = lock(&self.codes).remove(code)?;
        (pending.expires_at > unix_now()).then_some(pending)
    }

    /// Answers with a code for a signed-in user.
    fn approve(&self, request: &Authorization, user: &User, sid: &str, auth_time: u64) -> Response {
        match self.issue_code(request, user, sid, auth_time) {
            Some(code) => {
                let mode = match request.reply.mode {
                    ResponseMode::Query => "query",
                    ResponseMode::WebMessage => "web_message",
                };
                eprintln!(
                    "dev-idp: code issued to {} for {} (audience {}, response_mode {mode})",
                    self.config.spa_client_id,
                    user.name,
                    request.audience.as_deref().unwrap_or("none"),
                );
                reply(&request.reply, &[("code", code)])
            }
            None => reply(
                &request.reply,
                &[
                    ("error", "temporarily_unavailable".into()),
                    ("error_description", "Too many pending codes".into()),
                ],
            ),
        }
    }
}

/// Sends `fields` (and `state`) back to the app in the request's response mode.
pub fn reply(to: &ReplyTo, fields: &[(&str, String)]) -> Response {
    let mut fields: Vec<(&str, String)> = fields.to_vec();
    if let Some(state) = &to.state {
        fields.push(("state", state.clone()));
    }
    match to.mode {
        ResponseMode::Query => {
            let query = serde_urlencoded::to_string(&fields).unwrap_or_default();
            let separator = if to.redirect_uri.contains('?') {
                '&'
            } else {
                '?'
            };
            Redirect::to(&format!("{}{separator}{query}", to.redirect_uri)).into_response()
        }
        ResponseMode::WebMessage => {
            let response: serde_json::Map<String, serde_json::Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect();
            let message =
                serde_json::json!({"type": "authorization_response", "response": response});
            let origin = origin_of(&to.redirect_uri).unwrap_or_default();
            // Inside <script>, "<" is escaped so no value can close the element.
            let script_json = |v: &serde_json::Value| v.to_string().replace('<', "\\u003c");
            let page = format!(
                "<!doctype html><html><head><title>Authorization response</title></head><body>\
                 <script>\n(function () {{\n  var target = window.opener || window.parent;\n  \
                 target.postMessage({}, {});\n}})();\n</script></body></html>\n",
                script_json(&message),
                script_json(&serde_json::Value::String(origin.to_string())),
            );
            ([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;\
padding:0 1rem;color:#1b1f24}h1{font-size:1.3rem}.who{display:block;width:100%;text-align:left;\
margin:.5rem 0;padding:.7rem 1rem;border:1px solid #c9d1d9;border-radius:6px;background:#f6f8fa;\
font-size:1rem;cursor:pointer}.who:hover{background:#eaeef2}.perm{color:#57606a;font-size:.85rem}\
.error{color:#b42318}.note{color:#57606a;font-size:.85rem}";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>{STYLE}</style></head><body><h1>{t}</h1>{body}</body></html>\n",
        t = escape(title)
    );
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        Html(html),
    )
        .into_response()
}

/// The login page: one button per demo user.
fn login_page(
    config: &IdpConfig,
    raw_query: &str,
    request: &Authorization,
    error: Option<&str>,
) -> Response {
    let mut users = String::new();
    for user in &config.users {
        let permissions = if user.permissions.is_empty() {
            "no permissions".to_string()
        } else {
            user.permissions.join(", ")
        };
        users.push_str(&format!(
            "<button class=\"who\" type=\"submit\" name=\"user\" value=\"{n}\">{n} \
             <span class=\"perm\">&lt;{e}&gt; — {p}</span></button>",
            n = escape(&user.name),
            e = escape(&user.email()),
            p = escape(&permissions)
        ));
    }
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "{error}<p>Sign in to <b>{client}</b>{api}.</p>\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"authorize\" value=\"{query}\">{users}</form>\
         <p class=\"note\">jwt-guard dev IdP: development only, no passwords.</p>",
        client = escape(&config.spa_client_id),
        api = request
            .audience
            .as_deref()
            .map(|a| format!(" (API {})", escape(a)))
            .unwrap_or_default(),
        query = escape(raw_query),
    );
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    page(status, "Log in — dev IdP", &body)
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(message) => {
            eprintln!("dev-idp: authorization refused: {message}");
            page(
                StatusCode::BAD_REQUEST,
                "Authorization error",
                &format!("<p class=\"error\">{}</p>", escape(&message)),
            )
        }
        Refusal::Reply(to, error, description) => {
            eprintln!("dev-idp: authorization refused: {error}: {description}");
            reply(
                &to,
                &[
                    ("error", error.to_string()),
                    ("error_description", description),
                ],
            )
        }
    }
}

fn parse_params(raw_query: &str) -> Result<AuthorizeParams, Refusal> {
    serde_urlencoded::from_str(raw_query)
        .map_err(|err| Refusal::Page(format!("Malformed authorization request: {err}")))
}

/// `GET /authorize`.
pub async fn authorize(
    State(idp): State<Arc<Idp>>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let raw = query.unwrap_or_default();
    let request = match parse_params(&raw).and_then(|p| check(&idp.config, &p)) {
        Ok(request) => request,
        Err(refusal) => return refused(refusal),
    };
    let prompt = request.prompt.as_deref();
    if prompt != Some("login") {
        if let Some((sid, session)) = idp.session(&jar) {
            if let Some(user) = idp.config.user(&session.user) {
                return idp.approve(&request, user, &sid, session.auth_time);
            }
        }
    }
    if prompt == Some("none") {
        return refused(Refusal::Reply(
            request.reply,
            "login_required",
            "Login required".into(),
        ));
    }
    login_page(&idp.config, &raw, &request, None)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// The original authorization request (its query string).
    pub authorize: String,
    pub user: String,
}

/// `POST /login`: signs the chosen demo user in and answers the authorization request.
pub async fn login(
    State(idp): State<Arc<Idp>>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let request = match parse_params(&form.authorize).and_then(|p| check(&idp.config, &p)) {
        Ok(request) => request,
        Err(refusal) => return refused(refusal),
    };
    let Some(user) = idp.config.user(&form.user).cloned() else {
        return login_page(&idp.config, &form.authorize, &request, Some("Unknown user"));
    };
    let sid = random_id();
    let auth_time = unix_now();
    {
        let mut sessions = lock(&idp.sessions);
        if let Some(old) = Idp::session_id(&jar) {
            sessions.remove(&old);
        }
        if sessions.len() >= MAX_ENTRIES {
            sessions.clear();
        }
        sessions.insert(
            sid.clone(),
            Session {
                user: user.name.clone(),
                auth_time,
            },
        );
    }
    eprintln!("dev-idp: {} signed in", user.name);
    let cookie = Cookie::build((SESSION_COOKIE, sid.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax);
    (
        jar.add(cookie),
        idp.approve(&request, &user, &sid, auth_time),
    )
        .into_response()
}

/// The query of `GET /v2/logout`.
#[derive(Debug, Deserialize)]
pub struct LogoutParams {
    #[serde(rename = "returnTo")]
    pub return_to: Option<String>,
    pub client_id: Option<String>,
}

/// `GET /v2/logout`: ends the session, then redirects to `returnTo` when it is allowed.
pub async fn logout(
    State(idp): State<Arc<Idp>>,
    jar: CookieJar,
    Query(params): Query<LogoutParams>,
) -> Response {
    if let Some(return_to) = &params.return_to {
        if !idp.config.allows_return_to(return_to) {
            return page(
                StatusCode::BAD_REQUEST,
                "Logout error",
                &format!(
                    "<p class=\"error\">returnTo {} is not an allowed logout URL of client {}</p>",
                    escape(return_to),
                    escape(params.client_id.as_deref().unwrap_or("(none)"))
                ),
            );
        }
    }
    if let Some(sid) = Idp::session_id(&jar) {
        if let Some(session) = lock(&idp.sessions).remove(&sid) {
            eprintln!("dev-idp: {} signed out", session.user);
        }
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    match params.return_to {
        Some(url) => (jar, Redirect::to(&url)).into_response(),
        None => (
            jar,
            page(StatusCode::OK, "Signed out", "<p>You are signed out.</p>"),
        )
            .into_response(),
    }
}
