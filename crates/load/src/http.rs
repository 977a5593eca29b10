//! A small blocking HTTP/1.1 client, made for driving one local service hard.
//!
//! Why not a library: the runner needs exactly one shape of traffic (sequential requests on
//! a kept-alive connection per virtual user, bodies read and thrown away) and needs it fast
//! on a machine where the service under test gets one of two cores. Doing it by hand keeps
//! the hot path free of allocation and of an async runtime:
//!
//! - requests are rendered by [`PreparedRequest::write`] into a buffer the worker reuses,
//!   and sent with one `write_all`;
//! - responses are parsed in place in one fixed read buffer per client; bodies are skipped
//!   (`Content-Length`, chunked, or up to EOF) without being copied anywhere;
//! - connections are kept alive and reused, `TCP_NODELAY` is set (a request is one write,
//!   so Nagle would only add delay), and addresses are resolved once per run.
//!
//! A kept-alive connection may have been closed by the server while idle (Node closes them
//! after `keepAliveTimeout`, 5 s by default). When a request on a *reused* connection fails
//! before any byte of the response arrived, it is sent again once on a fresh connection, as
//! browsers and Node's own agent do.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use crate::cookies::CookieJar;
use crate::runner::Stop;
use crate::scenario::{Body, Step};
use crate::template::{push_decimal, Template};
use crate::url::BaseUrl;

/// Read buffer size: also the largest response head accepted.
const BUFFER_SIZE: usize = 64 * 1024;

/// Why a request got no (complete) response.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Nothing listens at the address.
    Refused,
    /// Connecting failed for another reason.
    Connect(io::Error),
    /// No connection within the connect timeout.
    ConnectTimeout,
    /// The response (or part of it) did not come within the timeout.
    Timeout,
    /// The server closed the connection before the response was complete.
    Closed,
    /// The server reset the connection.
    Reset,
    /// The response is not valid HTTP/1.x.
    BadResponse(&'static str),
    /// Any other I/O error.
    Io(io::Error),
}

/// A failure, and whether any byte of the response had arrived when it happened.
struct Attempt {
    failure: Failure,
    received: bool,
}

/// One step, ready to be written as request bytes for any iteration.
pub(crate) struct PreparedRequest {
    /// `METHOD /prefix` — the fixed start of the request line.
    start: Vec<u8>,
    path: Template,
    headers: Vec<(String, Template)>,
    /// `Content-Type: …\r\n` to add, unless the step sets its own.
    content_type: Option<&'static [u8]>,
    body: Option<Template>,
    /// `Host: …\r\n` unless the step sets its own Host header.
    host: Option<Vec<u8>>,
    /// POST, PUT and PATCH without a body still send `Content-Length: 0`: some servers
    /// wait for a body, or answer 411, without it.
    empty_body_length: bool,
    /// HEAD responses never have a body, whatever their headers say.
    pub(crate) head: bool,
}

impl PreparedRequest {
    pub(crate) fn new(step: &Step, base: &BaseUrl) -> PreparedRequest {
        let has_header = |name: &str| {
            step.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let mut start = Vec::new();
        start.extend_from_slice(step.method.as_bytes());
        start.push(b' ');
        start.extend_from_slice(base.prefix().as_bytes());
        let content_type: Option<&'static [u8]> = match (&step.body, has_header("content-type")) {
            (_, true) | (None, _) => None,
            (Some(Body::Json(_)), false) => Some(b"Content-Type: application/json\r\n"),
            (Some(Body::Text(_)), false) => Some(b"Content-Type: text/plain; charset=utf-8\r\n"),
        };
        let host =
            (!has_header("host")).then(|| format!("Host: {}\r\n", base.host_header()).into_bytes());
        PreparedRequest {
            start,
            path: step.path.clone(),
            headers: step.headers.clone(),
            content_type,
            body: step.body.as_ref().map(|b| b.template().clone()),
            host,
            empty_body_length: matches!(step.method.as_str(), "POST" | "PUT" | "PATCH"),
            head: step.method == "HEAD",
        }
    }

    /// Writes the whole request for `iteration`, with the jar's cookies, into `out`.
    pub(crate) fn write(&self, iteration: u64, jar: &CookieJar, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.start);
        self.path.render_into(iteration, out);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        if let Some(host) = &self.host {
            out.extend_from_slice(host);
        }
        out.extend_from_slice(b"User-Agent: leakhunt\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            value.render_into(iteration, out);
            out.extend_from_slice(b"\r\n");
        }
        jar.write_header(out);
        if let Some(content_type) = self.content_type {
            out.extend_from_slice(content_type);
        }
        match &self.body {
            Some(body) => {
                out.extend_from_slice(b"Content-Length: ");
                push_decimal(out, body.rendered_len(iteration) as u64);
                out.extend_from_slice(b"\r\n\r\n");
                body.render_into(iteration, out);
            }
            None if self.empty_body_length => out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
            None => out.extend_from_slice(b"\r\n"),
        }
    }
}

/// Connection settings shared by the clients of a run.
#[derive(Debug, Clone)]
pub(crate) struct ClientConfig {
    /// Addresses to try, in order (resolved once per run).
    pub addrs: Vec<SocketAddr>,
    pub connect_timeout: Duration,
    /// Longest wait for any read or write to make progress.
    pub io_timeout: Duration,
}

/// One virtual user's connection: at most one request in flight, kept alive between requests.
pub(crate) struct Client<'a> {
    config: &'a ClientConfig,
    stream: Option<TcpStream>,
    buf: Box<[u8]>,
    /// Unconsumed response bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Connections opened so far (tests check that keep-alive works).
    pub(crate) connections: u64,
    /// Where to show each new connection so that a stop can cut it (see [`Stop`]).
    stop: Option<(&'a Stop, usize)>,
}

/// What the head of a response says about the rest of it.
struct Head {
    status: u16,
    content_length: Option<u64>,
    chunked: bool,
    keep_alive: bool,
}

impl<'a> Client<'a> {
    pub(crate) fn new(config: &'a ClientConfig) -> Client<'a> {
        Client {
            config,
            stream: None,
            buf: vec![0; BUFFER_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
            connections: 0,
            stop: None,
        }
    }

    /// Registers every connection this client opens with `stop`, in `slot`.
    pub(crate) fn stopped_by(mut self, stop: &'a Stop, slot: usize) -> Client<'a> {
        self.stop = Some((stop, slot));
        self
    }

    /// Sends `request` (complete request bytes) and reads the whole response. Returns the
    /// status; `Set-Cookie` headers go to `jar`.
    pub(crate) fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
        jar: &mut CookieJar,
    ) -> Result<u16, Failure> {
        let reused = self.stream.is_some();
        if !reused {
            self.connect()?;
        }
        match self.attempt(request, head, jar) {
            Ok(status) => Ok(status),
            Err(a) if reused && !a.received && is_stale(&a.failure) => {
                // The idle connection was closed under us: retry once on a new one.
                self.disconnect();
                self.connect()?;
                self.attempt(request, head, jar).map_err(|a| {
                    self.disconnect();
                    a.failure
                })
            }
            Err(a) => {
                self.disconnect();
                Err(a.failure)
            }
        }
    }

    fn connect(&mut self) -> Result<(), Failure> {
        let mut last = Failure::Connect(io::Error::new(io::ErrorKind::NotFound, "no address"));
        for addr in &self.config.addrs {
            match TcpStream::connect_timeout(addr, self.config.connect_timeout) {
                Ok(stream) => {
                    // Setting options on a connected socket only fails if it is already dead;
                    // the request will then fail and be reported.
                    let _ = stream.set_nodelay(true);
                    let _ = stream.set_read_timeout(Some(self.config.io_timeout));
                    let _ = stream.set_write_timeout(Some(self.config.io_timeout));
                    if let Some((stop, slot)) = self.stop {
                        stop.watch(slot, &stream);
                    }
                    self.stream = Some(stream);
                    self.start = 0;
                    self.end = 0;
                    self.connections += 1;
                    return Ok(());
                }
                Err(e) => {
                    last = match e.kind() {
                        io::ErrorKind::ConnectionRefused => Failure::Refused,
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                            Failure::ConnectTimeout
                        }
                        _ => Failure::Connect(e),
                    }
                }
            }
        }
        Err(last)
    }

    fn disconnect(&mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.start = 0;
        self.end = 0;
    }

    fn attempt(
        &mut self,
        request: &[u8],
        head_request: bool,
        jar: &mut CookieJar,
    ) -> Result<u16, Attempt> {
        // Bytes left from a previous response would be a protocol error (no pipelining);
        // drop them rather than misread them as this response.
        self.start = 0;
        self.end = 0;
        let stream = self.stream.as_mut().expect("connected");
        if let Err(e) = stream.write_all(request) {
            return Err(Attempt {
                failure: io_failure(e),
                received: false,
            });
        }
        let mut interim = false;
        let head = loop {
            let head = self.read_head(jar).map_err(|a| Attempt {
                received: a.received || interim,
                ..a
            })?;
            // 1xx are interim responses (e.g. 103 Early Hints): the real one follows.
            // 101 would switch protocols, which we never ask for: treat it as final.
            if (100..200).contains(&head.status) && head.status != 101 {
                interim = true;
                continue;
            }
            break head;
        };
        let received = |failure| Attempt {
            failure,
            received: true,
        };
        let mut keep_alive = head.keep_alive;
        let has_body =
            !(head_request || head.status == 204 || head.status == 304 || head.status < 200);
        if has_body {
            if head.chunked {
                self.skip_chunked().map_err(received)?;
            } else if let Some(length) = head.content_length {
                self.skip(length).map_err(received)?;
            } else {
                // No framing: the body runs to the end of the connection.
                self.skip_to_eof().map_err(received)?;
                keep_alive = false;
            }
        }
        if !keep_alive || head.status == 101 {
            self.disconnect();
        }
        Ok(head.status)
    }

    /// Reads more bytes after `buf[..end]`, making room first. `Ok(0)` is end of stream.
    fn fill(&mut self) -> Result<usize, Failure> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start == 0 {
                return Err(Failure::BadResponse(
                    "response head or chunk line longer than 64 KiB",
                ));
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let stream = self.stream.as_mut().expect("connected");
        loop {
            match stream.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_failure(e)),
            }
        }
    }

    /// Reads and parses the status line and headers, consuming them.
    fn read_head(&mut self, jar: &mut CookieJar) -> Result<Head, Attempt> {
        // Unread bytes already known not to start the blank line; kept relative to `start`
        // because `fill` may move the unread bytes to the front of the buffer.
        let mut checked = 0;
        loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(at) = find_blank_line(&unread[checked..]) {
                let head_len = checked + at;
                let head = parse_head(&unread[..head_len], jar).map_err(|why| Attempt {
                    failure: Failure::BadResponse(why),
                    received: true,
                })?;
                self.start += head_len + 4;
                return Ok(head);
            }
            checked = unread.len().saturating_sub(3);
            let received = !unread.is_empty();
            match self.fill() {
                Ok(0) => {
                    return Err(Attempt {
                        failure: Failure::Closed,
                        received,
                    })
                }
                Ok(_) => {}
                Err(failure) => return Err(Attempt { failure, received }),
            }
        }
    }

    /// Consumes `length` body bytes.
    fn skip(&mut self, mut length: u64) -> Result<(), Failure> {
        loop {
            let available = (self.end - self.start) as u64;
            if available >= length {
                self.start += length as usize;
                return Ok(());
            }
            length -= available;
            self.start = self.end;
            if self.fill()? == 0 {
                return Err(Failure::Closed);
            }
        }
    }

    fn skip_to_eof(&mut self) -> Result<(), Failure> {
        loop {
            self.start = self.end;
            if self.fill()? == 0 {
                return Ok(());
            }
        }
    }

    /// Consumes a chunked body: `size[;ext]\r\n data \r\n` … `0\r\n` trailers `\r\n`.
    fn skip_chunked(&mut self) -> Result<(), Failure> {
        loop {
            let line = self.read_line()?;
            let size = parse_chunk_size(&self.buf[line.clone()])
                .ok_or(Failure::BadResponse("bad chunk size"))?;
            if size == 0 {
                // Trailer fields, then an empty line.
                loop {
                    let line = self.read_line()?;
                    if line.is_empty() {
                        return Ok(());
                    }
                }
            }
            self.skip(size)?;
            let crlf = self.read_line()?;
            if !crlf.is_empty() {
                return Err(Failure::BadResponse("chunk longer than its size"));
            }
        }
    }

    /// Consumes one CRLF-terminated line, returning its range in `buf` (without the CRLF).
    fn read_line(&mut self) -> Result<std::ops::Range<usize>, Failure> {
        let mut searched = 0;
        loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(at) = unread[searched..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|p| p + searched)
            {
                let line_end = if at > 0 && unread[at - 1] == b'\r' {
                    at - 1
                } else {
                    at
                };
                let range = self.start..self.start + line_end;
                self.start += at + 1;
                return Ok(range);
            }
            searched = unread.len();
            if self.fill()? == 0 {
                return Err(Failure::Closed);
            }
        }
    }
}

/// Whether a failure on a reused connection means "it was closed while idle".
fn is_stale(failure: &Failure) -> bool {
    match failure {
        Failure::Closed | Failure::Reset => true,
        Failure::Io(e) => matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionAborted
        ),
        _ => false,
    }
}

fn io_failure(e: io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Timeout,
        io::ErrorKind::ConnectionReset => Failure::Reset,
        io::ErrorKind::UnexpectedEof => Failure::Closed,
        _ => Failure::Io(e),
    }
}

/// Offset of the `\r\n\r\n` that ends a response head.
fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Parses a response head (without its final blank line).
fn parse_head(head: &[u8], jar: &mut CookieJar) -> Result<Head, &'static str> {
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    // HTTP/1.1 200 OK
    let (version, rest) = split_once(status_line, b' ').ok_or("bad status line")?;
    let http10 = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        _ => return Err("not an HTTP/1.x response"),
    };
    let code = rest.get(..3).ok_or("bad status line")?;
    if !code.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|b| *b != b' ') {
        return Err("bad status code");
    }
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));

    let mut head = Head {
        status,
        content_length: None,
        chunked: false,
        keep_alive: !http10,
    };
    for line in lines {
        let (name, value) = split_once(line, b':').ok_or("bad header line")?;
        let value = value.trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") {
            let length = parse_decimal(value).ok_or("bad Content-Length")?;
            if head.content_length.is_some_and(|l| l != length) {
                return Err("conflicting Content-Length headers");
            }
            head.content_length = Some(length);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // Chunked is always the last coding when present; anything else we cannot frame.
            let last = value
                .rsplit(|b| *b == b',')
                .next()
                .unwrap_or_default()
                .trim_ascii();
            head.chunked = last.eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|b| *b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    head.keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && http10 {
                    head.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case(b"set-cookie") {
            jar.set_cookie(value);
        }
    }
    if head.chunked {
        // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
        head.content_length = None;
    }
    Ok(head)
}

fn split_once(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|b| *b == separator)?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')),
    )
}

fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let size = line.split(|b| *b == b';').next()?.trim_ascii();
    if size.is_empty() || size.len() > 15 {
        return None;
    }
    size.iter().try_fold(0u64, |n, b| {
        Some(n * 16 + u64::from((*b as char).to_digit(16)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_request_line;

    #[test]
    fn writes_requests() {
        let base = BaseUrl::parse("http://127.0.0.1:3000/v1").unwrap();
        let mut jar = CookieJar::new();
        jar.set_cookie(b"sid=s7");
        let mut out = Vec::new();

        let step = parse_request_line(r#"POST /login/{{i}} {"u":"u{{i}}"}"#).unwrap();
        PreparedRequest::new(&step, &base).write(7, &jar, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "POST /v1/login/7 HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: leakhunt\r\nCookie: sid=s7\r\n\
             Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"u\":\"u7\"}"
        );

        let mut step = parse_request_line("DELETE /x").unwrap();
        step.headers.push(("Host".into(), Template::new("example")));
        step.headers
            .push(("x-trace".into(), Template::new("t{{i}}")));
        PreparedRequest::new(&step, &base).write(12, &CookieJar::new(), &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "DELETE /v1/x HTTP/1.1\r\nUser-Agent: leakhunt\r\nHost: example\r\nx-trace: t12\r\n\r\n"
        );

        let step = parse_request_line("PUT /x").unwrap();
        PreparedRequest::new(&step, &base).write(0, &CookieJar::new(), &mut out);
        assert!(String::from_utf8_lossy(&out).ends_with("Content-Length: 0\r\n\r\n"));
    }

    #[test]
    fn parses_heads() {
        let mut jar = CookieJar::new();
        let h = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nSet-Cookie: a=1; Path=/",
            &mut jar,
        )
        .unwrap();
        assert_eq!(
            (h.status, h.content_length, h.chunked, h.keep_alive),
            (200, Some(12), false, true)
        );
        assert_eq!(jar.get("a"), Some("1"));

        let h = parse_head(b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\nconnection: close", &mut jar).unwrap();
        assert_eq!(
            (h.status, h.content_length, h.chunked, h.keep_alive),
            (404, None, true, false)
        );

        let h = parse_head(b"HTTP/1.0 204", &mut jar).unwrap();
        assert_eq!((h.status, h.keep_alive), (204, false));
        let h = parse_head(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive", &mut jar).unwrap();
        assert!(h.keep_alive);

        for bad in [
            &b"HTTP/2 200 OK"[..],
            b"HTTP/1.1 20x OK",
            b"HTTP/1.1 200 OK\r\nno colon",
            b"garbage",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1",
        ] {
            assert!(
                parse_head(bad, &mut jar).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a"), Some(26));
        assert_eq!(parse_chunk_size(b"FF;name=value"), Some(255));
        assert_eq!(parse_chunk_size(b"0"), Some(0));
        assert_eq!(parse_chunk_size(b""), None);
        assert_eq!(parse_chunk_size(b"zz"), None);
    }
}
