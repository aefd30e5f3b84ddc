//! A deliberately small HTTP/1.1 server shared by `dev-idp` and `echo-upstream`.
//!
//! One request per connection (every response carries `Connection: close`), one thread
//! per connection with a cap on how many run at once, and hard limits on the size of
//! the request head and body. It is meant for loopback development use, not for the
//! internet; it still never panics on what a client sends.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Largest request head (request line and headers) accepted, in bytes.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body accepted, in bytes (after de-chunking).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most header fields accepted in one request.
pub const MAX_HEADERS: usize = 100;
/// Most connections served at once; more are answered 503 straight away.
pub const MAX_CONNECTIONS: usize = 128;
/// Longest line accepted inside a chunked body (chunk sizes and trailers).
const MAX_CHUNK_LINE_BYTES: usize = 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target exactly as received (path and query).
    pub target: String,
    pub version: String,
    /// Header fields in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The path part of the target (without the query string).
    pub fn path(&self) -> &str {
        match self.target.split_once('?') {
            Some((path, _)) => path,
            None => &self.target,
        }
    }

    /// The query string, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    /// The first value of a header, name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a header, name compared case-insensitively.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum ParseError {
    /// The peer closed the connection before sending anything.
    Closed,
    Io(io::Error),
    HeadTooLarge,
    BodyTooLarge,
    Malformed(&'static str),
    UnsupportedTransferEncoding,
}

impl ParseError {
    /// The response to send for this error, if any (none when the peer is gone).
    pub fn response(&self) -> Option<Response> {
        let (status, detail) = match self {
            ParseError::Closed | ParseError::Io(_) => return None,
            ParseError::HeadTooLarge => (431, "request head too large"),
            ParseError::BodyTooLarge => (413, "request body too large"),
            ParseError::Malformed(what) => (400, *what),
            ParseError::UnsupportedTransferEncoding => (501, "unsupported transfer-encoding"),
        };
        Some(Response::json(
            status,
            &serde_json::json!({"error": "bad_request", "error_description": detail}),
        ))
    }
}

impl From<io::Error> for ParseError {
    fn from(err: io::Error) -> Self {
        ParseError::Io(err)
    }
}

/// Reads one line ending in `\n`, at most `limit` bytes long (terminator included).
/// Returns the line without its `\r\n` / `\n`, or `None` at end of input before any byte.
fn read_line<R: BufRead>(
    reader: &mut R,
    limit: usize,
    too_long: fn() -> ParseError,
) -> Result<Option<Vec<u8>>, ParseError> {
    let mut line = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX);
    let read = reader.by_ref().take(cap).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if read >= limit {
            too_long()
        } else {
            ParseError::Malformed("truncated request")
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

fn parse_request_line(line: &[u8]) -> Result<(String, String, String), ParseError> {
    let line = std::str::from_utf8(line).map_err(|_| ParseError::Malformed("bad request line"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Malformed("bad request line"));
    };
    if !is_token(method) {
        return Err(ParseError::Malformed("bad method"));
    }
    if target.is_empty() || target.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(ParseError::Malformed("bad request target"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(ParseError::Malformed("unsupported HTTP version"));
    }
    Ok((method.to_string(), target.to_string(), version.to_string()))
}

fn parse_header_line(line: &[u8]) -> Result<(String, String), ParseError> {
    if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return Err(ParseError::Malformed("obsolete header line folding"));
    }
    let colon = line
        .iter()
        .position(|b| *b == b':')
        .ok_or(ParseError::Malformed("header without colon"))?;
    let (name, rest) = line.split_at(colon);
    let name = std::str::from_utf8(name).map_err(|_| ParseError::Malformed("bad header name"))?;
    if !is_token(name) {
        return Err(ParseError::Malformed("bad header name"));
    }
    let value = String::from_utf8_lossy(rest.get(1..).unwrap_or_default());
    if value.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
        return Err(ParseError::Malformed("bad header value"));
    }
    Ok((
        name.to_string(),
        value.trim_matches(|c| c == ' ' || c == '\t').to_string(),
    ))
}

/// Reads and parses one request from `reader`, enforcing the size limits above.
pub fn read_request<R: BufRead>(reader: &mut R) -> Result<Request, ParseError> {
    let mut head_left = MAX_HEAD_BYTES;
    let mut request_line = None;
    // RFC 9112 section 2.2: ignore empty lines received before the request line.
    while request_line.is_none() {
        let Some(line) = read_line(reader, head_left, || ParseError::HeadTooLarge)? else {
            return Err(ParseError::Closed);
        };
        head_left = head_left.saturating_sub(line.len().saturating_add(2));
        if !line.is_empty() {
            request_line = Some(line);
        }
        if head_left == 0 {
            return Err(ParseError::HeadTooLarge);
        }
    }
    let (method, target, version) = parse_request_line(request_line.as_deref().unwrap_or(&[]))?;

    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(reader, head_left, || ParseError::HeadTooLarge)? else {
            return Err(ParseError::Malformed("truncated request head"));
        };
        head_left = head_left.saturating_sub(line.len().saturating_add(2));
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS || head_left == 0 {
            return Err(ParseError::HeadTooLarge);
        }
        headers.push(parse_header_line(&line)?);
    }

    let mut request = Request {
        method,
        target,
        version,
        headers,
        body: Vec::new(),
    };
    request.body = read_body(reader, &request)?;
    Ok(request)
}

fn read_body<R: BufRead>(reader: &mut R, request: &Request) -> Result<Vec<u8>, ParseError> {
    let transfer_encodings: Vec<&str> = request.header_values("transfer-encoding").collect();
    let lengths: Vec<&str> = request.header_values("content-length").collect();
    if !transfer_encodings.is_empty() {
        if !lengths.is_empty() {
            return Err(ParseError::Malformed(
                "both transfer-encoding and content-length",
            ));
        }
        let last = transfer_encodings
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .unwrap_or_default();
        if !last.eq_ignore_ascii_case("chunked") {
            return Err(ParseError::UnsupportedTransferEncoding);
        }
        return read_chunked(reader);
    }
    let mut length: Option<usize> = None;
    for value in lengths.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::Malformed("bad content-length"));
        }
        let parsed: usize = match value.parse() {
            Ok(n) => n,
            Err(_) => return Err(ParseError::BodyTooLarge),
        };
        if length.is_some_and(|l| l != parsed) {
            return Err(ParseError::Malformed("conflicting content-length"));
        }
        length = Some(parsed);
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Err(ParseError::BodyTooLarge);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|err| {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            ParseError::Malformed("truncated body")
        } else {
            ParseError::Io(err)
        }
    })?;
    Ok(body)
}

fn read_chunked<R: BufRead>(reader: &mut R) -> Result<Vec<u8>, ParseError> {
    let too_long = || ParseError::Malformed("chunk line too long");
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, MAX_CHUNK_LINE_BYTES, too_long)?
            .ok_or(ParseError::Malformed("truncated chunked body"))?;
        let line = String::from_utf8_lossy(&line);
        let size_text = match line.split_once(';') {
            Some((size, _extensions)) => size,
            None => &line,
        }
        .trim();
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseError::Malformed("bad chunk size"));
        }
        let size = usize::from_str_radix(size_text, 16).map_err(|_| ParseError::BodyTooLarge)?;
        if size == 0 {
            break;
        }
        if size > MAX_BODY_BYTES.saturating_sub(body.len()) {
            return Err(ParseError::BodyTooLarge);
        }
        let start = body.len();
        body.resize(start.saturating_add(size), 0);
        let chunk = body
            .get_mut(start..)
            .ok_or(ParseError::Malformed("bad chunk"))?;
        reader.read_exact(chunk).map_err(|err| {
            if err.kind() == io::ErrorKind::UnexpectedEof {
                ParseError::Malformed("truncated chunked body")
            } else {
                ParseError::Io(err)
            }
        })?;
        let end = read_line(reader, 2, too_long)?;
        if end.as_deref() != Some(&[][..]) {
            return Err(ParseError::Malformed("chunk not followed by CRLF"));
        }
    }
    // Trailer fields: read and dropped, bounded in count and size.
    for _ in 0..MAX_HEADERS {
        let line = read_line(reader, MAX_CHUNK_LINE_BYTES, too_long)?
            .ok_or(ParseError::Malformed("truncated chunked body"))?;
        if line.is_empty() {
            return Ok(body);
        }
    }
    Err(ParseError::HeadTooLarge)
}

/// An HTTP response; `Content-Length` and `Connection: close` are added when written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A compact JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        let mut body = serde_json::to_vec(value).unwrap_or_default();
        body.push(b'\n');
        Self::with_body(status, "application/json", body)
    }

    /// An indented JSON response, for bodies meant to be read by people.
    pub fn json_pretty(status: u16, value: &serde_json::Value) -> Self {
        let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
        body.push(b'\n');
        Self::with_body(status, "application/json", body)
    }

    pub fn with_body(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Writes the response; with `head_only` (answer to HEAD) the body is left out
    /// but `Content-Length` still gives its length.
    pub fn write_to<W: Write>(&self, out: &mut W, head_only: bool) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        out.write_all(head.as_bytes())?;
        if !head_only {
            out.write_all(&self.body)?;
        }
        out.flush()
    }
}

/// The reason phrase for the status codes these tools send.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// What a server does with a request.
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// Decrements the active-connection count when a connection thread ends.
struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts connections forever, serving each on its own thread.
/// `name` prefixes the one access-log line written to stderr per request.
pub fn serve(listener: TcpListener, name: &'static str, handler: Arc<Handler>) {
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(stream) => stream,
            Err(err) => {
                eprintln!("{name}: accept failed: {err}");
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            let busy = Response::json(
                503,
                &serde_json::json!({"error": "temporarily_unavailable",
                                    "error_description": "too many connections"}),
            );
            finish(&stream, &busy, false);
            continue;
        }
        let guard = ActiveGuard(Arc::clone(&active));
        let handler = Arc::clone(&handler);
        let spawned = thread::Builder::new()
            .name(format!("{name}-conn"))
            .spawn(move || {
                let _guard = guard;
                handle_connection(&stream, name, handler.as_ref());
            });
        if let Err(err) = spawned {
            eprintln!("{name}: cannot start a connection thread: {err}");
        }
    }
}

fn handle_connection(stream: &TcpStream, name: &str, handler: &Handler) {
    // Best effort: a socket that refuses timeouts is still served.
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let mut reader = BufReader::new(stream);
    match read_request(&mut reader) {
        Ok(request) => {
            let response = handler(&request);
            eprintln!(
                "{name}: {} {} -> {}",
                request.method,
                request.path(),
                response.status
            );
            finish(stream, &response, request.method == "HEAD");
        }
        Err(err) => {
            if let Some(response) = err.response() {
                eprintln!("{name}: rejected a request: {err:?}");
                finish(stream, &response, false);
            }
        }
    }
}

/// Writes the response, then closes gracefully: shut down our side, and drain what the
/// client may still be sending for a moment, so the kernel does not reset the connection
/// (which can make the client lose the response) when unread request bytes remain.
fn finish(stream: &TcpStream, response: &Response, head_only: bool) {
    let mut writer = stream;
    if response.write_to(&mut writer, head_only).is_err() {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    let mut reader = stream;
    while drained < MAX_BODY_BYTES {
        match reader.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained = drained.saturating_add(n),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Request, ParseError> {
        read_request(&mut &raw[..])
    }

    #[test]
    fn parses_request_with_content_length_body() {
        let req = parse(
            b"POST /oauth/token?x=1 HTTP/1.1\r\nHost: idp\r\nContent-Type: application/json\r\n\
              Content-Length: 7\r\nX-Dup: a\r\nx-dup:  b \r\n\r\n{\"a\":1}",
        )
        .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.target, "/oauth/token?x=1");
        assert_eq!(req.path(), "/oauth/token");
        assert_eq!(req.query(), Some("x=1"));
        assert_eq!(req.version, "HTTP/1.1");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.header_values("X-DUP").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(req.body, b"{\"a\":1}");
    }

    #[test]
    fn accepts_bare_lf_and_leading_empty_lines() {
        let req = parse(b"\r\nGET / HTTP/1.0\nHost: x\n\n").unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.headers, vec![("Host".to_string(), "x".to_string())]);
        assert!(req.body.is_empty());
    }

    #[test]
    fn decodes_chunked_body() {
        let req = parse(
            b"POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
              4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nTrailer: x\r\n\r\n",
        )
        .unwrap();
        assert_eq!(req.body, b"abcdefg");
    }

    #[test]
    fn empty_input_is_closed() {
        assert!(matches!(parse(b""), Err(ParseError::Closed)));
    }

    #[test]
    fn rejects_malformed_heads() {
        let cases: &[&[u8]] = &[
            b"GET /\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
            b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        ];
        for raw in cases {
            let result = parse(raw);
            let Err(err) = result else {
                panic!("accepted {:?}", String::from_utf8_lossy(raw));
            };
            let response = err.response().unwrap();
            assert_eq!(
                response.status,
                400,
                "{:?}: {err:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn enforces_size_limits() {
        let mut huge_head = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge_head.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES));
        huge_head.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(parse(&huge_head), Err(ParseError::HeadTooLarge)));

        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("H{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(matches!(parse(&many), Err(ParseError::HeadTooLarge)));

        let big_body = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert!(matches!(
            parse(big_body.as_bytes()),
            Err(ParseError::BodyTooLarge)
        ));
        let absurd = b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n";
        assert!(matches!(parse(absurd), Err(ParseError::BodyTooLarge)));
        let big_chunk =
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n";
        assert!(matches!(parse(big_chunk), Err(ParseError::BodyTooLarge)));
        let gzip = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
        assert_eq!(parse(gzip).unwrap_err().response().unwrap().status, 501);
    }

    #[test]
    fn writes_length_and_close() {
        let resp = Response::json(401, &serde_json::json!({"error": "access_denied"}))
            .header("Cache-Control", "no-store");
        let mut out = Vec::new();
        resp.write_to(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let body = "{\"error\":\"access_denied\"}\n";
        assert_eq!(
            text,
            format!(
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n\
                 Cache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        );
        let mut head_only = Vec::new();
        resp.write_to(&mut head_only, true).unwrap();
        assert!(String::from_utf8(head_only)
            .unwrap()
            .ends_with("close\r\n\r\n"));
    }

    #[test]
    fn serves_over_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handler: Arc<Handler> =
            Arc::new(|req: &Request| Response::json(200, &serde_json::json!({"path": req.path()})));
        thread::spawn(move || serve(listener, "test", handler));
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(b"GET /hello?q HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("{\"path\":\"/hello\"}\n"), "{answer}");

        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(b"NOT HTTP\r\n\r\n").unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
    }
}
