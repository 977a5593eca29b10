//! HTTP/1 responses: the head (status line and headers), how the body is framed, and chunked
//! bodies. `httparse` reads the bytes; this module applies the framing rules of RFC 9112 §6
//! that both of leakhunt's clients need.
//!
//! Everything works on bytes already received and says when more are needed (`Ok(None)`), so
//! a caller can parse in place in its own read buffer without copying.

/// Headers accepted in one response head (Node sends well under twenty).
const MAX_HEADERS: usize = 96;

/// Why a response cannot be read as HTTP/1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// The status line or a header line is malformed (or it is not HTTP/1.x at all).
    #[error("not an HTTP/1.x response head ({0})")]
    Malformed(httparse::Error),
    #[error("bad Content-Length")]
    BadContentLength,
    #[error("conflicting Content-Length headers")]
    ConflictingContentLength,
    #[error("bad chunk size")]
    BadChunkSize,
    #[error("chunk longer than its size")]
    ChunkOverrun,
}

/// How the body after a head ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (HEAD requests, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No framing: the body runs to the end of the connection.
    UntilClose,
}

/// What a response head says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// Bytes the head took, its final blank line included.
    pub len: usize,
    pub content_length: Option<u64>,
    /// `chunked` is the last transfer coding (then Content-Length is ignored).
    pub chunked: bool,
    /// Whether the connection may carry another request (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
}

impl ResponseHead {
    /// How the body is framed, given whether the request was a HEAD.
    pub fn framing(&self, head_request: bool) -> Framing {
        if head_request || self.status < 200 || self.status == 204 || self.status == 304 {
            Framing::Empty
        } else if self.chunked {
            Framing::Chunked
        } else if let Some(length) = self.content_length {
            Framing::Length(length)
        } else {
            Framing::UntilClose
        }
    }

    /// 1xx other than 101: an interim response (e.g. 103 Early Hints); the real one follows.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }
}

/// Parses the response head at the start of `bytes`. `Ok(None)`: not all of it is there yet.
/// `each_header` sees every header (name, value) once the head is complete, for the ones a
/// caller keeps itself (e.g. `Set-Cookie`).
pub fn parse_head(
    bytes: &[u8],
    mut each_header: impl FnMut(&str, &[u8]),
) -> Result<Option<ResponseHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes).map_err(HeadError::Malformed)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return Ok(None),
    };
    let http10 = response.version == Some(0);
    let mut head = ResponseHead {
        status: response.code.unwrap_or_default(),
        len,
        content_length: None,
        chunked: false,
        keep_alive: !http10,
    };
    for header in response.headers.iter() {
        let (name, value) = (header.name, header.value.trim_ascii());
        if name.eq_ignore_ascii_case("content-length") {
            let length = parse_decimal(value).ok_or(HeadError::BadContentLength)?;
            if head.content_length.is_some_and(|l| l != length) {
                return Err(HeadError::ConflictingContentLength);
            }
            head.content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked is always the last coding when present; anything else cannot be framed.
            let last = value.rsplit(|b| *b == b',').next().unwrap_or_default();
            head.chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    head.keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && http10 {
                    head.keep_alive = true;
                }
            }
        }
        each_header(name, value);
    }
    if head.chunked {
        // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
        head.content_length = None;
    }
    Ok(Some(head))
}

/// Parses a chunk-size line (`1a;ext=v\r\n`) at the start of `bytes`: the bytes it took and
/// the size. `Ok(None)`: the line is not complete yet.
pub fn parse_chunk_size(bytes: &[u8]) -> Result<Option<(usize, u64)>, HeadError> {
    match httparse::parse_chunk_size(bytes) {
        Ok(httparse::Status::Complete(done)) => Ok(Some(done)),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::InvalidChunkSize) => Err(HeadError::BadChunkSize),
    }
}

/// Parses the trailer section after the last (zero-size) chunk: header lines, then an empty
/// line. Returns the bytes it took; `Ok(None)`: not complete yet.
pub fn parse_trailers(bytes: &[u8]) -> Result<Option<usize>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(bytes, &mut headers).map_err(HeadError::Malformed)? {
        httparse::Status::Complete((len, _)) => Ok(Some(len)),
        httparse::Status::Partial => Ok(None),
    }
}

/// Decodes a whole chunked body at the start of `bytes`: the data and the bytes the body
/// took (trailers included). `Ok(None)`: the body is not complete yet.
pub fn decode_chunked(bytes: &[u8]) -> Result<Option<(Vec<u8>, usize)>, HeadError> {
    let mut data = Vec::new();
    let mut at = 0;
    loop {
        let Some((line, size)) = parse_chunk_size(&bytes[at..])? else {
            return Ok(None);
        };
        at += line;
        if size == 0 {
            return Ok(parse_trailers(&bytes[at..])?.map(|len| (data, at + len)));
        }
        let size = usize::try_from(size).map_err(|_| HeadError::BadChunkSize)?;
        let Some(chunk) = bytes.get(at..at.saturating_add(size)) else {
            return Ok(None);
        };
        data.extend_from_slice(chunk);
        at += size;
        match bytes.get(at..at + 2) {
            Some(b"\r\n") => at += 2,
            Some(_) => return Err(HeadError::ChunkOverrun),
            None if bytes.len() > at && bytes[at] != b'\r' => return Err(HeadError::ChunkOverrun),
            None => return Ok(None),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> Result<Option<ResponseHead>, HeadError> {
        parse_head(bytes, |_, _| {})
    }

    #[test]
    fn heads() {
        let mut cookies = Vec::new();
        let h = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nSet-Cookie: a=1; Path=/\r\n\r\nbody",
            |name, value| {
                if name.eq_ignore_ascii_case("set-cookie") {
                    cookies.push(value.to_vec());
                }
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (h.status, h.content_length, h.chunked, h.keep_alive, h.len),
            (200, Some(12), false, true, 64)
        );
        assert_eq!(h.framing(false), Framing::Length(12));
        assert_eq!(h.framing(true), Framing::Empty);
        assert_eq!(cookies, [b"a=1; Path=/".to_vec()]);

        let h = head(b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\nconnection: close\r\n\r\n").unwrap().unwrap();
        assert_eq!(
            (h.status, h.content_length, h.chunked, h.keep_alive),
            (404, None, true, false)
        );
        assert_eq!(h.framing(false), Framing::Chunked);

        let h = head(b"HTTP/1.0 204\r\n\r\n").unwrap().unwrap();
        assert_eq!((h.status, h.keep_alive), (204, false));
        assert_eq!(h.framing(false), Framing::Empty);
        let h = head(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.keep_alive);
        assert_eq!(h.framing(false), Framing::UntilClose);
        assert!(head(b"HTTP/1.1 103 Early Hints\r\n\r\n")
            .unwrap()
            .unwrap()
            .is_interim());

        assert_eq!(head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
        for bad in [
            &b"HTTP/2 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 20x OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"garbage\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ] {
            assert!(head(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a\r\n"), Ok(Some((4, 26))));
        assert_eq!(parse_chunk_size(b"FF;name=value\r\n"), Ok(Some((15, 255))));
        assert_eq!(parse_chunk_size(b"0\r\n"), Ok(Some((3, 0))));
        assert_eq!(parse_chunk_size(b"1a"), Ok(None));
        assert!(parse_chunk_size(b"zz\r\n").is_err());
    }

    #[test]
    fn chunked_bodies() {
        let body = b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\nnext";
        assert_eq!(
            decode_chunked(body).unwrap(),
            Some((b"abcde".to_vec(), body.len() - 4))
        );
        // Trailers after the last chunk belong to the body.
        let body = b"2\r\n[]\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(
            decode_chunked(body).unwrap(),
            Some((b"[]".to_vec(), body.len()))
        );
        // Data that looks like the end is data.
        assert_eq!(decode_chunked(b"5\r\n0\r\n\r\n\r\n").unwrap(), None);
        for partial in [
            &b"5\r\nab"[..],
            b"2\r\nab",
            b"2\r\nab\r",
            b"0\r\n",
            b"0\r\nX: 1\r\n",
        ] {
            assert_eq!(decode_chunked(partial).unwrap(), None, "{partial:?}");
        }
        assert_eq!(
            decode_chunked(b"1\r\nab\r\n0\r\n\r\n"),
            Err(HeadError::ChunkOverrun)
        );
    }
}
