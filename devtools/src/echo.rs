//! `echo-upstream`: answers every request with 200 and a JSON description of what it
//! received (method, path, query, headers, body), so a person can see exactly which
//! headers jwt-guard added or removed on the way.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::IntoResponse;
use axum::Router;
use clap::Parser;
use serde_json::{json, Map, Value};

/// Largest request body accepted (larger ones get 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest part of the request body echoed back.
const MAX_ECHOED_BODY: usize = 4096;

/// Command line of `echo-upstream`.
#[derive(Debug, Parser)]
#[command(
    name = "echo-upstream",
    about = "Answers every request with 200 and a JSON echo of what it received"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
}

/// The echo service: every method, every path.
pub fn app() -> Router {
    Router::new()
        .fallback(echo)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let text =
        serde_json::to_string_pretty(&describe(&method, &uri, &headers, &body)).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], text + "\n")
}

/// The echo of one request. Header names are lower case (as Envoy sends them); a header
/// received more than once is echoed as an array of its values.
pub fn describe(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Value {
    let mut echoed = Map::new();
    for name in headers.keys() {
        let mut values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let value = if values.len() == 1 {
            values.pop().unwrap_or_default()
        } else {
            Value::Array(values)
        };
        echoed.insert(name.as_str().to_string(), value);
    }
    let shown = body.get(..MAX_ECHOED_BODY).unwrap_or(body);
    json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "headers": echoed,
        "body": String::from_utf8_lossy(shown),
        "body_bytes": body.len(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(request: Request<Body>) -> (StatusCode, Value) {
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn echoes_method_path_and_headers() {
        let request = Request::post("/api/items?limit=2")
            .header("Host", "localhost:10000")
            .header("X-Jwt-Sub", "auth0|reader")
            .header("accept", "a")
            .header("Accept", "b")
            .header("accept", "c")
            .body(Body::from("hello"))
            .unwrap();
        let (status, echo) = call(request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(echo["method"], "POST");
        assert_eq!(echo["path"], "/api/items");
        assert_eq!(echo["query"], "limit=2");
        assert_eq!(echo["headers"]["host"], "localhost:10000");
        assert_eq!(echo["headers"]["x-jwt-sub"], "auth0|reader");
        assert_eq!(echo["headers"]["accept"], json!(["a", "b", "c"]));
        assert_eq!(echo["body"], "hello");
        assert_eq!(echo["body_bytes"], 5);
    }

    #[tokio::test]
    async fn no_query_is_null_and_big_bodies_are_refused() {
        let (_, echo) = call(Request::get("/").body(Body::empty()).unwrap()).await;
        assert!(echo["query"].is_null());
        let big = vec![b'x'; MAX_BODY_BYTES + 1];
        let (status, _) = call(Request::put("/").body(Body::from(big)).unwrap()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
