//! What leakhunt reads off the wire, in one place: the `http://` and `ws://` URLs it is given
//! ([`url`]) and the HTTP/1 response heads and chunked bodies it gets back ([`response`]).
//!
//! Two clients use it: the inspector's `GET /json/list` (crates/inspector) and the load
//! runner's keep-alive client (crates/load). Both are blocking and keep their own sockets and
//! buffers; only the parsing is shared, so they agree on what a response and a URL are.
//! The parsing itself is done by maintained crates: `httparse` for heads and chunk sizes,
//! `url` (WHATWG rules) for URLs.

pub mod response;
pub mod url;

pub use self::response::{
    decode_chunked, parse_chunk_size, parse_head, parse_trailers, Framing, HeadError, ResponseHead,
};
pub use self::url::{ws_host_port, BaseUrl, HostPort, UrlError};
pub use ::url::Host;
