//! A small blocking HTTP/1.1 client, made for driving one local service hard.
//!
//! Why not a library: the runner needs exactly one shape of traffic (sequential requests on
//! a kept-alive connection per virtual user, bodies read and thrown away) and needs it cheap:
//! the service under test runs on the same machine, so every cycle the client spends is one
//! the service does not get. Doing it by hand keeps the hot path free of allocation and of an
//! async runtime:
//!
//! - requests are rendered by `PreparedRequest::write` (in `request.rs`) into a buffer the worker reuses,
//!   and sent with one `write_all`;
//! - responses are parsed in place in one fixed read buffer per client (heads and chunk
//!   sizes by `leakhunt-http-wire`, the parser the inspector client uses too); bodies are
//!   skipped (`Content-Length`, chunked, or up to EOF) without being copied anywhere;
//! - connections are kept alive and reused, `TCP_NODELAY` is set (a request is one write,
//!   so Nagle would only add delay), and addresses are resolved once per run.
//!
//! A kept-alive connection may have been closed by the server while idle (Node closes them
//! after `keepAliveTimeout`, 5 s by default). When a request on a *reused* connection fails
//! before any byte of the response arrived, it is sent again once on a fresh connection, as
//! browsers and Node's own agent do.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use leakhunt_http_wire::{
    parse_chunk_size, parse_head, parse_trailers, Framing, HeadError, ResponseHead,
};

use crate::cookies::CookieJar;
use crate::runner::Stop;

/// Read buffer size: also the largest response head accepted.
const BUFFER_SIZE: usize = 64 * 1024;

/// How far a read may run past a request's deadline before the socket's timeout is set
/// again (see [`Client::bound_by_deadline`]).
const DEADLINE_SLACK: Duration = Duration::from_millis(20);

/// Most of a response body kept for captures: a JSON answer carrying an id is far smaller.
const MAX_KEPT_BODY: usize = 1 << 20;

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
    BadResponse(HeadError),
    /// A response head or chunk-size line does not fit in the read buffer.
    TooLong,
    /// Any other I/O error.
    Io(io::Error),
}

/// A failure, and whether any byte of the response had arrived when it happened.
struct Attempt {
    failure: Failure,
    received: bool,
}

/// Connection settings shared by the clients of a run.
#[derive(Debug, Clone)]
pub(crate) struct ClientConfig {
    /// Addresses to try, in order (resolved once per run).
    pub addrs: Vec<SocketAddr>,
    pub connect_timeout: Duration,
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
    /// When the request in flight must be done: a response that streams forever (Server-Sent
    /// Events) or never starts (a parked long poll) ends there, as a timeout.
    deadline: Instant,
    /// The socket's read and write timeout as last set, so that it is set again only when it
    /// must shrink to the deadline or the step's timeout differs (a system call per request
    /// would cost the service cycles on this shared machine).
    socket_timeout: Option<Duration>,
    /// Keep the body of the responses (see [`Client::keep_body`]), in `body`.
    keep_body: bool,
    body: Vec<u8>,
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
            deadline: Instant::now(),
            socket_timeout: None,
            keep_body: false,
            body: Vec::new(),
        }
    }

    /// Starts on `stream`, a connection kept open from an earlier run (registered with the
    /// stop, if any, as a new one would be).
    pub(crate) fn adopt(&mut self, stream: TcpStream) {
        if let Some((stop, slot)) = self.stop {
            stop.watch(slot, &stream);
        }
        self.stream = Some(stream);
        self.socket_timeout = None;
        self.start = 0;
        self.end = 0;
    }

    /// The open connection, to keep for a later run.
    pub(crate) fn into_stream(self) -> Option<TcpStream> {
        self.stream
    }

    /// Registers every connection this client opens with `stop`, in `slot`.
    pub(crate) fn stopped_by(mut self, stop: &'a Stop, slot: usize) -> Client<'a> {
        self.stop = Some((stop, slot));
        self
    }

    /// Sends `request` (complete request bytes) and reads the whole response, all within
    /// `timeout` (a retry on a fresh connection included). Returns the status; `Set-Cookie`
    /// headers go to `jar`. On a timeout the connection is closed: the server sees the
    /// client go, as it would when a browser tab closes.
    pub(crate) fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
        jar: &mut CookieJar,
        timeout: Duration,
    ) -> Result<u16, Failure> {
        self.deadline = Instant::now() + timeout;
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
                    self.socket_timeout = None;
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
        self.body.clear();
        if let Err(failure) = self.bound_by_deadline() {
            return Err(Attempt {
                failure,
                received: false,
            });
        }
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
            if head.is_interim() {
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
        match head.framing(head_request) {
            Framing::Empty => {}
            Framing::Chunked => self.skip_chunked().map_err(received)?,
            Framing::Length(length) => self.skip(length).map_err(received)?,
            Framing::UntilClose => {
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
                return Err(Failure::TooLong);
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            self.bound_by_deadline()?;
            let stream = self.stream.as_mut().expect("connected");
            match stream.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The socket's timeout may have been shorter than what the request has left
                // (set for an earlier one): only the deadline ends it.
                Err(e) if is_timeout(&e) && Instant::now() < self.deadline => {
                    self.socket_timeout = None;
                    continue;
                }
                Err(e) => return Err(io_failure(e)),
            }
        }
    }

    /// Makes the next read or write on the socket give up by the deadline: a timeout once
    /// it has passed, else the socket's timeout shrunk to what is left when it is shorter.
    /// (A response that keeps sending, an event stream, never lets a read time out; this
    /// check ends it.)
    fn bound_by_deadline(&mut self) -> Result<(), Failure> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Timeout);
        }
        // Set again only when the socket's timeout would overshoot the deadline, or fall
        // short of it (a new request, a step with a longer timeout), by more than a little:
        // a quick request never pays a system call for it.
        let stale = match self.socket_timeout {
            None => true,
            Some(set) => left + DEADLINE_SLACK < set || left > set + DEADLINE_SLACK,
        };
        if stale {
            let stream = self.stream.as_ref().expect("connected");
            let _ = stream.set_read_timeout(Some(left));
            let _ = stream.set_write_timeout(Some(left));
            self.socket_timeout = Some(left);
        }
        Ok(())
    }

    /// Reads and parses the status line and headers, consuming them. `Set-Cookie` headers
    /// go to `jar`.
    fn read_head(&mut self, jar: &mut CookieJar) -> Result<ResponseHead, Attempt> {
        loop {
            let unread = &self.buf[self.start..self.end];
            let parsed = parse_head(unread, |name, value| {
                if name.eq_ignore_ascii_case("set-cookie") {
                    jar.set_cookie(value);
                }
            });
            match parsed {
                Ok(Some(head)) => {
                    self.start += head.len;
                    return Ok(head);
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(Attempt {
                        failure: Failure::BadResponse(e),
                        received: true,
                    })
                }
            }
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
                self.keep(self.start + length as usize);
                self.start += length as usize;
                return Ok(());
            }
            length -= available;
            self.keep(self.end);
            self.start = self.end;
            if self.fill()? == 0 {
                return Err(Failure::Closed);
            }
        }
    }

    fn skip_to_eof(&mut self) -> Result<(), Failure> {
        loop {
            self.keep(self.end);
            self.start = self.end;
            if self.fill()? == 0 {
                return Ok(());
            }
        }
    }

    /// With [`Client::keep_body`], copies the body bytes `buf[start..to]` aside (up to
    /// [`MAX_KEPT_BODY`]; a longer body is cut, and will not parse).
    fn keep(&mut self, to: usize) {
        if self.keep_body {
            let room = MAX_KEPT_BODY.saturating_sub(self.body.len());
            let bytes = &self.buf[self.start..to];
            self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    /// Whether the next responses' bodies are kept (for a step that captures values):
    /// read them with [`Client::body`].
    pub(crate) fn keep_body(&mut self, keep: bool) {
        self.keep_body = keep;
    }

    /// The last response's body, when kept.
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    /// Consumes a chunked body: `size[;ext]\r\n data \r\n` … `0\r\n` trailers `\r\n`.
    fn skip_chunked(&mut self) -> Result<(), Failure> {
        loop {
            let size = self.consume(parse_chunk_size)?;
            if size == 0 {
                return self.consume(|bytes| Ok(parse_trailers(bytes)?.map(|len| (len, ()))));
            }
            self.skip(size)?;
            self.consume(|bytes| match bytes {
                [b'\r', b'\n', ..] => Ok(Some((2, ()))),
                [] | [b'\r'] => Ok(None),
                _ => Err(HeadError::ChunkOverrun),
            })?;
        }
    }

    /// Runs `parse` on the unread bytes until it has what it needs (reading more while it
    /// says `Ok(None)`), then consumes the bytes it took.
    fn consume<T>(
        &mut self,
        parse: impl Fn(&[u8]) -> Result<Option<(usize, T)>, HeadError>,
    ) -> Result<T, Failure> {
        loop {
            if let Some((len, value)) =
                parse(&self.buf[self.start..self.end]).map_err(Failure::BadResponse)?
            {
                self.start += len;
                return Ok(value);
            }
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

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn io_failure(e: io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Timeout,
        io::ErrorKind::ConnectionReset => Failure::Reset,
        io::ErrorKind::UnexpectedEof => Failure::Closed,
        _ => Failure::Io(e),
    }
}
