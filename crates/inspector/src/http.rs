//! A tiny HTTP/1.x GET, just enough for the inspector's `/json/list`.
//!
//! Node's inspector answers `GET /json/list` with `HTTP/1.0 200 OK`, a
//! `Content-Length` and a small JSON body, then closes. Pulling in an HTTP
//! client for that would cost more than these lines. Callers only pass
//! loopback addresses (see `attach::check_loopback`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde::Deserialize;

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
    loop {
        if response_complete(&raw) {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
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
    let head_end = find(&raw, b"\r\n\r\n")
        .ok_or_else(|| http_err("no HTTP response (not an HTTP server?)".into()))?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.split_whitespace();
    let proto = parts.next().unwrap_or("");
    let code: u16 = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    if !proto.starts_with("HTTP/") || code == 0 {
        return Err(http_err(format!("not an HTTP response: {status_line:?}")));
    }
    if !(200..300).contains(&code) {
        return Err(http_err(format!("status {status_line:?}")));
    }
    let mut content_length = None;
    let mut chunked = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim(), v.trim());
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.parse::<usize>().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
            {
                chunked = true;
            }
        }
    }
    let body = &raw[head_end + 4..];
    if chunked {
        return dechunk(body).ok_or_else(|| http_err("bad chunked body".into()));
    }
    match content_length {
        Some(n) if body.len() < n => Err(http_err(format!(
            "body cut short ({} of {n} bytes)",
            body.len()
        ))),
        Some(n) => Ok(body[..n].to_vec()),
        None => Ok(body.to_vec()),
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

/// Headers received and, if there is a Content-Length, the whole body too.
/// Without one we read until EOF (chunked bodies included, which end with the
/// connection in practice for the servers we talk to).
fn response_complete(raw: &[u8]) -> bool {
    let Some(head_end) = find(raw, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    for l in head.split("\r\n").skip(1) {
        if let Some((k, v)) = l.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                return match v.trim().parse::<usize>() {
                    Ok(n) => raw.len() - head_end - 4 >= n,
                    Err(_) => false,
                };
            }
            if k.trim().eq_ignore_ascii_case("transfer-encoding") {
                return raw.ends_with(b"0\r\n\r\n");
            }
        }
    }
    false
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(body, b"\r\n")?;
        let size_str = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"5\r\nab").is_none());
    }
}
