//! The base URL of a run: `http://host[:port][/prefix]`.
//!
//! Only plain `http` is spoken: leakhunt drives services it started itself on this machine,
//! so TLS would only add cost. The host is resolved once per run (not per request: no DNS on
//! the hot path), and the `Host` header and path prefix are kept ready to copy into requests.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// A parsed `http://` base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    host: String,
    port: u16,
    /// `host[:port]` as it goes in the `Host` header (port left out when it is 80).
    host_header: String,
    /// Path prefix without a trailing `/` (often empty); step paths are appended to it.
    prefix: String,
}

impl BaseUrl {
    /// Parses `http://host[:port][/prefix]`; the error says what is wrong, in one line.
    pub fn parse(url: &str) -> Result<BaseUrl, String> {
        let url = url.trim();
        let rest = match url.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("http://") => &url[7..],
            _ if url
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://")) =>
            {
                return Err(format!(
                    "'{url}': https is not supported (services are driven over plain http)"
                ));
            }
            _ => return Err(format!("'{url}' must start with http://")),
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        if !path.is_empty() && !path.starts_with('/') {
            return Err(format!(
                "'{url}': a base URL cannot have a query or fragment"
            ));
        }
        if path.contains(['?', '#']) || path.bytes().any(|b| b <= b' ') {
            return Err(format!(
                "'{url}': a base URL cannot have a query, fragment or spaces"
            ));
        }
        if authority.contains('@') {
            return Err(format!("'{url}': user names in URLs are not supported"));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            // IPv6 literal: [::1]:3000
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| format!("'{url}': unclosed '['"))?;
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err(format!("'{url}': unexpected text after ']'")),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("'{url}' has no host"));
        }
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("'{url}': bad port '{p}'"))?,
        };
        let host_only = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let host_header = if port == 80 {
            host_only
        } else {
            format!("{host_only}:{port}")
        };
        Ok(BaseUrl {
            host: host.to_owned(),
            port,
            host_header,
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }

    /// The addresses the host resolves to, looked up now.
    pub fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} has no address", self.host),
            ));
        }
        Ok(addrs)
    }

    /// The value of the `Host` header.
    pub fn host_header(&self) -> &str {
        &self.host_header
    }

    /// The path prefix (no trailing `/`), prepended to every step's path.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.host_header, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let u = BaseUrl::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(
            (u.host_header(), u.prefix(), u.port),
            ("127.0.0.1:3000", "", 3000)
        );
        assert_eq!(u.to_string(), "http://127.0.0.1:3000");
        let u = BaseUrl::parse("HTTP://localhost/api/").unwrap();
        assert_eq!(
            (u.host_header(), u.prefix(), u.port),
            ("localhost", "/api", 80)
        );
        let u = BaseUrl::parse("http://[::1]:8080/v1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.host_header(), u.prefix()),
            ("::1", "[::1]:8080", "/v1")
        );
        assert!(u.resolve().unwrap()[0].is_ipv6());
    }

    #[test]
    fn rejects() {
        for bad in [
            "https://x",
            "ftp://x",
            "127.0.0.1:3000",
            "http://",
            "http://x:0",
            "http://x:99999",
            "http://x?a=1",
            "http://u@x",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(BaseUrl::parse("https://x")
            .unwrap_err()
            .contains("https is not supported"));
    }
}
