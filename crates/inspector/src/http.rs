//! A tiny HTTP/1.x GET, just enough for the inspector's `/json/list`.
//!
//! Node's inspector answers `GET /json/list` with a `Content-Length` and a small
//! JSON body, and keeps the socket open. The response is read with the parser the
//! load runner uses too (`leakhunt-http-wire`); an HTTP client crate would bring a
//! connection pool and more for one request. Callers only pass loopback addresses
//! (see `attach::parse_ws_url`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde::Deserialize;

use leakhunt_http_wire::{decode_chunked, parse_head, Framing, HeadError};

use crate::error::{InspectorError, Result};

/// Bodies larger than this are not an inspector's target list.
const MAX_RESPONSE: u64 = 4 << 20;

/// One entry of `/json/list`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    #[serde(default)]
    pub id: String,
    /// Node puts the main script's absolute path here.
    #[serde(default)]
    pub title: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    /// `file://` URL of the main script.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub web_socket_debugger_url: Option<String>,
}

/// `GET path` on `addr`; returns the body of a 2xx answer.
pub(crate) fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Vec<u8>> {
    let url = format!("http://{addr}{path}");
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| match e.kind() {
        io::ErrorKind::ConnectionRefused => InspectorError::NothingListening {
            addr: addr.to_string(),
        },
        _ => InspectorError::Http {
            url: url.clone(),
            reason: e.to_string(),
        },
    })?;
    let http_err = |reason: String| InspectorError::Http {
        url: url.clone(),
        reason,
    };
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|_| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| http_err(e.to_string()))?;
    // Host must be the address we dialled: Node builds webSocketDebuggerUrl from it.
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
    stream
        .write_all(req.as_bytes())
        .map_err(|e| http_err(e.to_string()))?;

    // Read until the response is complete by its own framing: Node's inspector
    // ignores `Connection: close` and keeps the socket open after answering.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut eof = false;
    loop {
        let bad = |e: HeadError| http_err(format!("not an HTTP response ({e})"));
        if let Some(head) = parse_head(&raw, |_, _| {}).map_err(bad)? {
            let body = &raw[head.len..];
            let done = match head.framing(false) {
                Framing::Empty => Some(Vec::new()),
                Framing::Length(n) => usize::try_from(n)
                    .ok()
                    .and_then(|n| body.get(..n))
                    .map(<[u8]>::to_vec),
                Framing::Chunked => decode_chunked(body).map_err(bad)?.map(|(data, _)| data),
                Framing::UntilClose => eof.then(|| body.to_vec()),
            };
            if !(200..300).contains(&head.status) {
                return Err(http_err(format!("status {}", head.status)));
            }
            match (done, eof) {
                (Some(body), _) => return Ok(body),
                (None, true) => return Err(http_err("body cut short".into())),
                (None, false) => {}
            }
        } else if eof {
            return Err(http_err(if raw.is_empty() {
                "no answer (not an HTTP server?)".into()
            } else {
                "no HTTP response (not an HTTP server?)".into()
            }));
        }
        match stream.read(&mut buf) {
            Ok(0) => eof = true,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() as u64 > MAX_RESPONSE {
                    return Err(http_err("response too large".into()));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(http_err(if raw.is_empty() {
                    "no answer (not an HTTP server?)".into()
                } else {
                    "response incomplete".into()
                }));
            }
            Err(e) => return Err(http_err(e.to_string())),
        }
    }
}

/// `GET /json/list` and parse it. A port that answers something else (another
/// HTTP server, or not HTTP at all) gives [`InspectorError::NotInspector`].
pub fn json_list(addr: SocketAddr, timeout: Duration) -> Result<Vec<TargetInfo>> {
    let body = match get(addr, "/json/list", timeout) {
        Ok(b) => b,
        Err(InspectorError::Http { reason, .. }) => {
            return Err(InspectorError::NotInspector {
                addr: addr.to_string(),
                reason: format!("GET /json/list: {reason}"),
            })
        }
        Err(e) => return Err(e),
    };
    serde_json::from_slice::<Vec<TargetInfo>>(&body).map_err(|e| InspectorError::NotInspector {
        addr: addr.to_string(),
        reason: format!("GET /json/list did not return a target list ({e})"),
    })
}

#[cfg(test)]
mod wire_tests {
    use super::*;
    use std::net::TcpListener;

    /// Serves `response` once and keeps the socket open afterwards, as Node's inspector does.
    fn serve_once(response: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            s.write_all(response).unwrap();
            // Hold the connection until the client goes.
            let _ = s.read(&mut buf);
        });
        addr
    }

    #[test]
    fn chunked_body_with_trailer_is_complete() {
        let addr = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\nX-Trailer: 1\r\n\r\n",
        );
        assert_eq!(
            get(addr, "/json/list", Duration::from_secs(2)).unwrap(),
            b"[]"
        );
    }
}
