//! The dev IdP through its HTTP interface, as the SDK and the demo use it.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use clap::Parser;
use http_body_util::BodyExt;
use jwt_simple::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;

const SPA: &str = "http://127.0.0.1:3000";
const CALLBACK: &str = "http://127.0.0.1:3000/";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

// RSA key generation is slow in debug builds: make two keys once for all tests.
fn key(n: usize) -> RS256KeyPair {
    static KEYS: OnceLock<Vec<RS256KeyPair>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let handles: Vec<_> = (0..2)
            .map(|_| std::thread::spawn(|| keys::new_signing_key().unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })[n]
        .clone()
}

fn idp() -> Arc<Idp> {
    let args = Args::try_parse_from([
        "dev-idp",
        "--audience",
        "https://api.example.com",
        "--audience",
        "https://other.example.com",
        "--callback-url",
        CALLBACK,
        "--web-origin",
        SPA,
    ])
    .unwrap();
    let config = IdpConfig::from_args(&args, "127.0.0.1:9000".parse().unwrap()).unwrap();
    Arc::new(Idp::new(config, key(0)))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
    /// The query parameters of the redirect target.
    fn redirect_params(&self) -> Vec<(String, String)> {
        let location = self.header(header::LOCATION);
        let query = location.split_once('?').unwrap().1;
        serde_urlencoded::from_str(query).unwrap()
    }
    fn redirect_param(&self, name: &str) -> Option<String> {
        self.redirect_params()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
    fn session_cookie(&self) -> String {
        let set = self.header(header::SET_COOKIE);
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        set.split(';').next().unwrap().to_string()
    }
}

async fn send(idp: &Arc<Idp>, request: Request<Body>) -> Answer {
    let response = router(idp.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn get(idp: &Arc<Idp>, uri: &str, cookie: Option<&str>) -> Answer {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(idp, request.body(Body::empty()).unwrap()).await
}

async fn post_form(idp: &Arc<Idp>, uri: &str, body: &str, cookie: Option<&str>) -> Answer {
    let mut request =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(idp, request.body(Body::from(body.to_string())).unwrap()).await
}

fn segment(token: &str, n: usize) -> Value {
    let part = token.split('.').nth(n).unwrap();
    serde_json::from_slice(&Base64UrlSafeNoPadding::decode_to_vec(part, None).unwrap()).unwrap()
}

/// Verifies a token with the JWKS the IdP publishes.
fn verify(idp: &Idp, token: &str, audience: &str) -> JWTClaims<NoCustomClaims> {
    let kid = segment(token, 0)["kid"].as_str().unwrap().to_string();
    let jwks = idp.jwks();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap();
    let public = RS256PublicKey::from_jwk(&jwk.to_string()).unwrap();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from_strings(&["http://127.0.0.1:9000/"])),
        allowed_audiences: Some(HashSet::from_strings(&[audience])),
        ..Default::default()
    };
    public
        .verify_token::<NoCustomClaims>(token, Some(options))
        .unwrap()
}

fn authorize_query(extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", "demo-spa"),
        ("redirect_uri", CALLBACK),
        ("audience", "https://api.example.com"),
        ("scope", "openid profile email"),
        ("response_type", "code"),
        ("response_mode", "query"),
        ("state", "st4te"),
        ("nonce", "n0nce"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("auth0Client", "eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0="),
    ];
    for (name, value) in extra {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    serde_urlencoded::to_string(&params).unwrap()
}

/// Signs `user` in through the login page; returns the redirect answer.
async fn login(idp: &Arc<Idp>, user: &str, extra: &[(&str, &str)]) -> Answer {
    let query = authorize_query(extra);
    let page = get(idp, &format!("/authorize?{query}"), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(&format!("value=\"{user}\"")),
        "{}",
        page.body
    );
    assert_eq!(page.header(header::X_FRAME_OPTIONS), "DENY");
    let form =
        serde_urlencoded::to_string([("authorize", query.as_str()), ("user", user)]).unwrap();
    post_form(idp, "/login", &form, None).await
}

async fn exchange(idp: &Arc<Idp>, code: &str, verifier: &str) -> Answer {
    let body = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("client_id", "demo-spa"),
        ("code", code),
        ("code_verifier", verifier),
        ("redirect_uri", CALLBACK),
    ])
    .unwrap();
    post_form(idp, "/oauth/token", &body, None).await
}

#[tokio::test]
async fn code_flow_with_pkce_issues_auth0_shaped_tokens() {
    let idp = idp();
    let redirect = login(&idp, "reader", &[]).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert!(redirect
        .header(header::LOCATION)
        .starts_with("http://127.0.0.1:3000/?code="));
    assert_eq!(redirect.redirect_param("state").as_deref(), Some("st4te"));
    redirect.session_cookie();
    let code = redirect.redirect_param("code").unwrap();

    let answer = exchange(&idp, &code, VERIFIER).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid profile email");
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );

    let access = body["access_token"].as_str().unwrap();
    verify(&idp, access, "https://api.example.com");
    let claims = segment(access, 1);
    let reader = idp.config().user("reader").unwrap().subject();
    assert_eq!(claims["iss"], "http://127.0.0.1:9000/");
    assert_eq!(claims["sub"], reader.as_str());
    assert_eq!(
        claims["aud"],
        json!(["https://api.example.com", "http://127.0.0.1:9000/userinfo"])
    );
    assert_eq!(claims["azp"], "demo-spa");
    assert_eq!(claims["permissions"], json!(["read:data"]));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    assert!(claims.get("gty").is_none());

    let id_token = body["id_token"].as_str().unwrap();
    verify(&idp, id_token, "demo-spa");
    let id = segment(id_token, 1);
    assert_eq!(segment(id_token, 0)["alg"], "RS256");
    assert_eq!(id["aud"], "demo-spa");
    assert_eq!(id["azp"], "demo-spa");
    assert_eq!(id["nonce"], "n0nce");
    assert_eq!(id["sub"], reader.as_str());
    assert_eq!(id["email"], "reader@example.com");
    assert!(id["sid"].as_str().is_some_and(|s| s.len() >= 32));

    // The code is single use.
    let again = exchange(&idp, &code, VERIFIER).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert_eq!(again.json()["error"], "invalid_grant");

    // /userinfo accepts the access token (its aud includes /userinfo).
    let request = Request::get("/userinfo")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::empty())
        .unwrap();
    let profile = send(&idp, request).await;
    assert_eq!(profile.status, StatusCode::OK);
    assert_eq!(profile.json()["sub"], reader.as_str());
    let anonymous = get(&idp, "/userinfo", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous
        .header(header::WWW_AUTHENTICATE)
        .starts_with("Bearer error="));
}

#[tokio::test]
async fn admin_gets_write_admin_and_api_scopes_follow_rbac() {
    let idp = idp();
    let redirect = login(
        &idp,
        "admin",
        &[("scope", "openid read:data write:admin delete:all")],
    )
    .await;
    let code = redirect.redirect_param("code").unwrap();
    let body = exchange(&idp, &code, VERIFIER).await.json();
    let claims = segment(body["access_token"].as_str().unwrap(), 1);
    assert_eq!(claims["permissions"], json!(["read:data", "write:admin"]));
    assert_eq!(claims["scope"], "openid read:data write:admin");
    // Without openid: no ID token, aud is the API alone.
    let redirect = login(&idp, "admin", &[("scope", "read:data")]).await;
    let body = exchange(&idp, &redirect.redirect_param("code").unwrap(), VERIFIER)
        .await
        .json();
    assert!(body.get("id_token").is_none());
    assert_eq!(
        segment(body["access_token"].as_str().unwrap(), 1)["aud"],
        "https://api.example.com"
    );
}

#[tokio::test]
async fn token_exchange_checks_verifier_redirect_and_client() {
    let idp = idp();
    for (verifier, client, redirect_uri) in [
        ("x".repeat(43), "demo-spa", CALLBACK),
        (
            VERIFIER.to_string(),
            "demo-spa",
            "http://127.0.0.1:3000/other",
        ),
        (VERIFIER.to_string(), "demo-client", CALLBACK),
    ] {
        let code = login(&idp, "reader", &[])
            .await
            .redirect_param("code")
            .unwrap();
        let body = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", &code),
            ("code_verifier", &verifier),
            ("redirect_uri", redirect_uri),
        ])
        .unwrap();
        let answer = post_form(&idp, "/oauth/token", &body, None).await;
        assert!(
            answer.status.is_client_error(),
            "{verifier} {client} {redirect_uri}"
        );
        assert!(answer.json()["access_token"].is_null());
    }
    let missing = exchange(&idp, "no-such-code", VERIFIER).await;
    assert_eq!(missing.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn authorize_refuses_what_auth0_refuses() {
    let idp = idp();
    // Not sent to an unregistered address: shown on a page.
    for extra in [
        &[("client_id", "nope")][..],
        &[("redirect_uri", "http://evil.example/")],
        &[("redirect_uri", "")],
        &[("response_mode", "form_post")],
    ] {
        let answer = get(
            &idp,
            &format!("/authorize?{}", authorize_query(extra)),
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{extra:?}");
        assert!(answer.header(header::LOCATION).is_empty());
    }
    // Sent back to the app with state.
    for (extra, error) in [
        (&[("code_challenge_method", "plain")][..], "invalid_request"),
        (&[("code_challenge_method", "")], "invalid_request"),
        (&[("code_challenge", "")], "invalid_request"),
        (&[("code_challenge", "short")], "invalid_request"),
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("audience", "https://unknown.example")], "access_denied"),
        (&[("prompt", "none")], "login_required"),
    ] {
        let answer = get(
            &idp,
            &format!("/authorize?{}", authorize_query(extra)),
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{extra:?}");
        assert_eq!(
            answer.redirect_param("error").as_deref(),
            Some(error),
            "{extra:?}"
        );
        assert_eq!(answer.redirect_param("state").as_deref(), Some("st4te"));
        assert!(answer.redirect_param("error_description").is_some());
    }
    // An HTML-looking user name is escaped on the page.
    let query = authorize_query(&[("state", "<script>")]);
    let page = get(&idp, &format!("/authorize?{query}"), None).await;
    assert!(!page.body.contains("<script>"));
}

#[tokio::test]
async fn sessions_give_silent_auth_by_web_message_and_logout_ends_them() {
    let idp = idp();
    let cookie = login(&idp, "reader", &[]).await.session_cookie();
    let silent = authorize_query(&[("prompt", "none"), ("response_mode", "web_message")]);
    let answer = get(&idp, &format!("/authorize?{silent}"), Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.body.contains("\"type\":\"authorization_response\""),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("\"code\":"));
    assert!(answer.body.contains("\"state\":\"st4te\""));
    assert!(
        answer.body.contains(", \"http://127.0.0.1:3000\")"),
        "{}",
        answer.body
    );

    // prompt=login shows the page even with a session.
    let forced = get(
        &idp,
        &format!("/authorize?{}", authorize_query(&[("prompt", "login")])),
        Some(&cookie),
    )
    .await;
    assert_eq!(forced.status, StatusCode::OK);
    assert!(forced.body.contains("<form"));

    let logout = get(
        &idp,
        "/v2/logout?client_id=demo-spa&returnTo=http%3A%2F%2F127.0.0.1%3A3000%2F",
        Some(&cookie),
    )
    .await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(logout.header(header::LOCATION), CALLBACK);
    assert!(logout
        .header(header::SET_COOKIE)
        .contains("dev_idp_session=;"));
    let after = get(&idp, &format!("/authorize?{silent}"), Some(&cookie)).await;
    assert!(
        after.body.contains("\"error\":\"login_required\""),
        "{}",
        after.body
    );

    let refused = get(
        &idp,
        "/v2/logout?returnTo=http%3A%2F%2Fevil.example%2F",
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cors_only_for_web_origins() {
    let idp = idp();
    let preflight = |origin: &str| {
        Request::options("/oauth/token")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "content-type,auth0-client",
            )
            .body(Body::empty())
            .unwrap()
    };
    let allowed = send(&idp, preflight(SPA)).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), SPA);
    assert!(allowed
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS)
        .contains("auth0-client"));
    let other = send(&idp, preflight("http://evil.example")).await;
    assert_eq!(other.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "");
    let discovery = send(
        &idp,
        Request::get("/.well-known/openid-configuration")
            .header(header::ORIGIN, SPA)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(discovery.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), SPA);
    let doc = discovery.json();
    assert_eq!(
        doc["authorization_endpoint"],
        "http://127.0.0.1:9000/authorize"
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
}

#[tokio::test]
async fn client_credentials_form_and_json() {
    let idp = idp();
    let form = post_form(
        &idp,
        "/oauth/token",
        "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret\
         &audience=https%3A%2F%2Fapi.example.com&scope=read%3Adata",
        None,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.header(header::CACHE_CONTROL), "no-store");
    let body = form.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "read:data");
    let token = body["access_token"].as_str().unwrap();
    verify(&idp, token, "https://api.example.com");
    let header = segment(token, 0);
    assert_eq!(header.as_object().unwrap().len(), 3, "{header}");
    assert_eq!(header["kid"], idp.current_kid().as_str());
    let claims = segment(token, 1);
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(
        claims,
        json!({
            "iss": "http://127.0.0.1:9000/", "sub": "demo-client@clients",
            "aud": "https://api.example.com", "iat": iat, "exp": iat + 3600,
            "scope": "read:data", "gty": "client-credentials", "azp": "demo-client",
        })
    );

    let request = Request::post("/oauth/token")
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(
            r#"{"grant_type":"client_credentials","client_id":"demo-client",
            "client_secret":"demo-secret","audience":"https://api.example.com"}"#,
        ))
        .unwrap();
    let body = send(&idp, request).await.json();
    assert_eq!(body["scope"], "read:data write:admin");
}

#[tokio::test]
async fn token_endpoint_refusals_look_like_auth0() {
    let idp = idp();
    let cases = [
        ("client_id=demo-client&client_secret=demo-secret&audience=https%3A%2F%2Fapi.example.com",
         400, "invalid_request"),
        ("grant_type=password&client_id=demo-client&client_secret=demo-secret",
         400, "unsupported_grant_type"),
        ("grant_type=client_credentials&client_id=demo-client&client_secret=wrong&audience=https%3A%2F%2Fapi.example.com",
         401, "access_denied"),
        ("grant_type=client_credentials&client_id=other&client_secret=demo-secret&audience=https%3A%2F%2Fapi.example.com",
         401, "access_denied"),
        ("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret&audience=https%3A%2F%2Funknown",
         403, "access_denied"),
        ("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret",
         403, "access_denied"),
        ("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret&audience=https%3A%2F%2Fapi.example.com&scope=delete%3Aall",
         403, "access_denied"),
        ("grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"),
        ("grant_type=authorization_code&client_id=demo-spa&code_verifier=x", 400, "invalid_request"),
    ];
    for (body, status, error) in cases {
        let answer = post_form(&idp, "/oauth/token", body, None).await;
        assert_eq!(answer.status.as_u16(), status, "{body}");
        assert_eq!(answer.json()["error"], error, "{body}");
        assert!(answer.json()["error_description"].is_string());
    }
    for (content_type, body) in [
        ("application/json", "[1]"),
        ("application/json", r#"{"grant_type":1}"#),
        ("text/plain", "x"),
    ] {
        let request = Request::post("/oauth/token")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        assert_eq!(
            send(&idp, request).await.status,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
}

#[tokio::test]
async fn rotation_keeps_the_previous_key_in_the_jwks() {
    let idp = idp();
    let old_kid = idp.current_kid();
    let old_token = idp
        .keys()
        .sign(tokens::client_access_token(
            idp.config(),
            "https://api.example.com",
            "",
            unix_now(),
        ))
        .unwrap();
    assert_eq!(idp.jwks()["keys"].as_array().unwrap().len(), 1);
    let (new_kid, previous) = idp.rotate(key(1));
    assert_eq!(previous, old_kid);
    assert_ne!(new_kid, old_kid);
    let jwks = get(&idp, "/.well-known/jwks.json", None).await.json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);
    for k in jwks["keys"].as_array().unwrap() {
        assert_eq!(
            (k["kty"].as_str(), k["alg"].as_str(), k["use"].as_str()),
            (Some("RSA"), Some("RS256"), Some("sig"))
        );
        assert!(k.get("d").is_none(), "private part leaked: {k}");
    }
    verify(&idp, &old_token, "https://api.example.com");
    // A second rotation drops the oldest key.
    idp.rotate(key(0));
    let jwks = idp.jwks();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert_eq!(jwks["keys"][0]["kid"], old_kid.as_str());
}

#[tokio::test]
async fn routing() {
    let idp = idp();
    let status = |method: &'static str, path: &'static str| {
        let idp = idp.clone();
        async move {
            send(
                &idp,
                Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .status
        }
    };
    assert_eq!(status("GET", "/").await, StatusCode::OK);
    assert_eq!(
        status("GET", "/.well-known/jwks.json?x=1").await,
        StatusCode::OK
    );
    assert_eq!(
        status("POST", "/.well-known/jwks.json").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        status("GET", "/oauth/token").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        status("GET", "/rotate").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(status("GET", "/nope").await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_never_let_a_value_out_of_its_place() {
    let idp = idp();
    let cookie = login(&idp, "reader", &[]).await.session_cookie();
    // A hostile state in the web_message page cannot close the script element.
    let silent = authorize_query(&[
        ("prompt", "none"),
        ("response_mode", "web_message"),
        ("state", "</script><script>alert(1)</script>"),
    ]);
    let answer = get(&idp, &format!("/authorize?{silent}"), Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body.matches("</script>").count(),
        1,
        "{}",
        answer.body
    );
    assert!(answer.body.contains("\\u003c/script>"));
    // An unknown user is refused on the login page, and no session is made.
    let form = serde_urlencoded::to_string([
        ("authorize", authorize_query(&[]).as_str()),
        ("user", "mallory"),
    ])
    .unwrap();
    let refused = post_form(&idp, "/login", &form, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("Unknown user"));
    assert!(refused.header(header::SET_COOKIE).is_empty());
    // A tampered authorization request in the form is checked again.
    let form = serde_urlencoded::to_string([
        (
            "authorize",
            authorize_query(&[("redirect_uri", "http://evil.example/")]).as_str(),
        ),
        ("user", "admin"),
    ])
    .unwrap();
    let refused = post_form(&idp, "/login", &form, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.header(header::LOCATION).is_empty());
}

async fn refresh(idp: &Arc<Idp>, token: &str) -> Answer {
    let body = serde_urlencoded::to_string([
        ("grant_type", "refresh_token"),
        ("client_id", "demo-spa"),
        ("refresh_token", token),
    ])
    .unwrap();
    post_form(idp, "/oauth/token", &body, None).await
}

#[tokio::test]
async fn offline_access_gives_rotating_refresh_tokens() {
    let idp = idp();
    let redirect = login(&idp, "reader", &[("scope", "openid offline_access")]).await;
    let body = exchange(&idp, &redirect.redirect_param("code").unwrap(), VERIFIER)
        .await
        .json();
    assert_eq!(body["scope"], "openid offline_access");
    let first = body["refresh_token"].as_str().unwrap().to_string();

    let renewed = refresh(&idp, &first).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    let renewed = renewed.json();
    let second = renewed["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let access = renewed["access_token"].as_str().unwrap();
    verify(&idp, access, "https://api.example.com");
    assert_eq!(segment(access, 1)["permissions"], json!(["read:data"]));
    let id = segment(renewed["id_token"].as_str().unwrap(), 1);
    assert!(id.get("nonce").is_none());
    assert_eq!(id["aud"], "demo-spa");

    // The spent token again: refused, and the family (the second token too) is revoked.
    let reused = refresh(&idp, &first).await;
    assert_eq!(reused.status, StatusCode::FORBIDDEN);
    assert_eq!(reused.json()["error"], "invalid_grant");
    assert_eq!(refresh(&idp, &second).await.status, StatusCode::FORBIDDEN);
    // Only the SPA client may use them.
    let body = "grant_type=refresh_token&client_id=demo-client&refresh_token=x";
    let answer = post_form(&idp, "/oauth/token", body, None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Without an API, offline_access is not granted.
    let redirect = login(
        &idp,
        "reader",
        &[("scope", "openid offline_access"), ("audience", "")],
    )
    .await;
    let body = exchange(&idp, &redirect.redirect_param("code").unwrap(), VERIFIER)
        .await
        .json();
    assert_eq!(body["scope"], "openid");
    assert!(body.get("refresh_token").is_none());
}
