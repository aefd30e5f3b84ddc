//! `echo-upstream`: answers every request with 200 and a JSON description of what it
//! received (method, path, query, headers, body), so a person can see exactly which
//! headers jwt-guard added or removed on the way.

use serde_json::{json, Map, Value};

use crate::http::{Request, Response};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";

/// The flags `echo-upstream` accepts.
pub const FLAGS: &[&str] = &["listen"];

pub const USAGE: &str = "\
echo-upstream: answers every request with 200 and a JSON echo of what it received

Usage: echo-upstream [--listen ADDR]   (default 127.0.0.1:8081)
";

/// Largest part of the request body echoed back.
const MAX_ECHOED_BODY: usize = 4096;

/// The echo of one request. Header names are lower-cased (HTTP/2 style, as Envoy sends
/// them); a header received more than once is echoed as an array of its values.
pub fn describe(request: &Request) -> Value {
    let mut headers = Map::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        match headers.get_mut(&name) {
            None => {
                headers.insert(name, Value::String(value.clone()));
            }
            Some(Value::Array(values)) => values.push(Value::String(value.clone())),
            Some(first) => {
                let previous = first.take();
                *first = Value::Array(vec![previous, Value::String(value.clone())]);
            }
        }
    }
    let shown = request.body.get(..MAX_ECHOED_BODY).unwrap_or(&request.body);
    json!({
        "method": request.method,
        "path": request.path(),
        "query": request.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(shown),
        "body_bytes": request.body.len(),
    })
}

pub fn handle(request: &Request) -> Response {
    Response::json_pretty(200, &describe(request))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn echoes_method_path_and_headers() {
        let request = Request {
            method: "POST".into(),
            target: "/api/items?limit=2".into(),
            version: "HTTP/1.1".into(),
            headers: vec![
                ("Host".into(), "localhost:10000".into()),
                ("X-Jwt-Sub".into(), "demo-client@clients".into()),
                ("accept".into(), "a".into()),
                ("Accept".into(), "b".into()),
                ("accept".into(), "c".into()),
            ],
            body: b"hello".to_vec(),
        };
        let response = handle(&request);
        assert_eq!(response.status, 200);
        let echo: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(echo["method"], "POST");
        assert_eq!(echo["path"], "/api/items");
        assert_eq!(echo["query"], "limit=2");
        assert_eq!(echo["headers"]["host"], "localhost:10000");
        assert_eq!(echo["headers"]["x-jwt-sub"], "demo-client@clients");
        assert_eq!(echo["headers"]["accept"], json!(["a", "b", "c"]));
        assert_eq!(echo["body"], "hello");
        assert_eq!(echo["body_bytes"], 5);
    }

    #[test]
    fn no_query_is_null() {
        let request = Request {
            method: "GET".into(),
            target: "/".into(),
            version: "HTTP/1.1".into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        assert!(describe(&request)["query"].is_null());
    }
}
