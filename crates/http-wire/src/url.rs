//! The URLs leakhunt is given: a service's base URL (`http://host[:port][/prefix]`) and an
//! inspector's WebSocket URL (`ws://host:port/id`).
//!
//! The `url` crate parses them (WHATWG rules: IPv6 brackets, case, percent-encoding, dotted
//! and short IPv4 forms); this module only says which of the parsed URLs leakhunt accepts and
//! keeps the pieces its clients need. Only plain `http` and `ws` are spoken: leakhunt drives
//! services and inspectors on this machine, where TLS would only add cost.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use ::url::{Host, Url};

/// Why a URL is not one leakhunt can use. Each message names the URL, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("'{url}' must start with {scheme}://")]
    Scheme { url: String, scheme: &'static str },
    #[error("'{url}': https is not supported (services are driven over plain http)")]
    Https { url: String },
    #[error("'{url}': wss:// (TLS) is not supported: inspectors on loopback speak plain ws://")]
    Wss { url: String },
    #[error("'{url}': {reason}")]
    Invalid {
        url: String,
        reason: ::url::ParseError,
    },
    #[error("'{url}' has no host")]
    NoHost { url: String },
    #[error("'{url}': port 0 is not a port to connect to")]
    PortZero { url: String },
    #[error("'{url}' has no port (expected ws://HOST:PORT/ID, e.g. the URL after `Debugger listening on`)")]
    NoPort { url: String },
    #[error("'{url}': user names in URLs are not supported")]
    UserInfo { url: String },
    #[error("'{url}': a base URL cannot have a query or fragment")]
    QueryOrFragment { url: String },
}

/// A host (a name, or an IP literal) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    host: Host<String>,
    port: u16,
}

impl HostPort {
    /// The host as parsed: IP literals are [`Host::Ipv4`]/[`Host::Ipv6`], names lowercased.
    pub fn host(&self) -> &Host<String> {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host's IP when it is written as one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.host {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        }
    }

    /// The addresses the host resolves to, looked up now (IP literals without a lookup).
    pub fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = match (&self.host, self.ip()) {
            (_, Some(ip)) => vec![SocketAddr::new(ip, self.port)],
            (Host::Domain(name), None) => (name.as_str(), self.port).to_socket_addrs()?.collect(),
            _ => unreachable!("an IP host has an IP"),
        };
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} has no address", self.host),
            ));
        }
        Ok(addrs)
    }
}

/// `host:port`, IPv6 in brackets: what goes in a `Host` header and in messages.
impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Parses `text` as a URL of `scheme` (`http` or `ws`), refusing user names and port 0.
fn parse(text: &str, scheme: &'static str) -> Result<(Url, HostPort), UrlError> {
    let text = text.trim();
    let owned = || text.to_owned();
    let parsed = Url::parse(text);
    let url = match parsed {
        Ok(url) if url.scheme() == scheme => url,
        Ok(url) if url.scheme() == "https" && scheme == "http" => {
            return Err(UrlError::Https { url: owned() })
        }
        Ok(url) if url.scheme() == "wss" && scheme == "ws" => {
            return Err(UrlError::Wss { url: owned() })
        }
        Ok(_) | Err(::url::ParseError::RelativeUrlWithoutBase) => {
            return Err(UrlError::Scheme {
                url: owned(),
                scheme,
            })
        }
        Err(::url::ParseError::EmptyHost) => return Err(UrlError::NoHost { url: owned() }),
        Err(reason) => {
            return Err(UrlError::Invalid {
                url: owned(),
                reason,
            })
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::UserInfo { url: owned() });
    }
    let host = match url.host() {
        Some(Host::Domain("")) | None => return Err(UrlError::NoHost { url: owned() }),
        Some(host) => host.to_owned(),
    };
    let port = url
        .port_or_known_default()
        .expect("http and ws have a default port");
    if port == 0 {
        return Err(UrlError::PortZero { url: owned() });
    }
    Ok((url, HostPort { host, port }))
}

/// Whether the authority of `text` (`scheme://authority/…`) spells a port. The `url` crate
/// drops a port equal to the scheme's default, so `ws://h:80/x` and `ws://h/x` parse the same.
fn spells_port(text: &str) -> bool {
    let rest = text.trim().split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // After an IPv6 literal's `]`, or the whole authority otherwise.
    let tail = authority.rsplit(']').next().unwrap_or(authority);
    tail.contains(':')
}

/// An inspector's `ws://host:port/…` URL: its host and port. The port must be written out
/// (an inspector has no usual port 80).
pub fn ws_host_port(text: &str) -> Result<HostPort, UrlError> {
    let (_, host_port) = parse(text, "ws")?;
    if !spells_port(text) {
        return Err(UrlError::NoPort {
            url: text.trim().to_owned(),
        });
    }
    Ok(host_port)
}

/// A service's base URL: `http://host[:port][/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    host_port: HostPort,
    /// `host[:port]` as it goes in the `Host` header (port left out when it is 80).
    host_header: String,
    /// Path prefix without a trailing `/` (often empty); step paths are appended to it.
    prefix: String,
}

impl BaseUrl {
    /// Parses `http://host[:port][/prefix]`; the error says what is wrong, in one line.
    pub fn parse(text: &str) -> Result<BaseUrl, UrlError> {
        let (url, host_port) = parse(text, "http")?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(UrlError::QueryOrFragment {
                url: text.trim().to_owned(),
            });
        }
        let host_header = if host_port.port == 80 {
            host_port.host.to_string()
        } else {
            host_port.to_string()
        };
        Ok(BaseUrl {
            host_header,
            prefix: url.path().trim_end_matches('/').to_owned(),
            host_port,
        })
    }

    /// The host and port requests go to.
    pub fn host_port(&self) -> &HostPort {
        &self.host_port
    }

    /// The addresses the host resolves to, looked up now.
    pub fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        self.host_port.resolve()
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
    fn base_urls() {
        let u = BaseUrl::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(
            (u.host_header(), u.prefix(), u.host_port().port()),
            ("127.0.0.1:3000", "", 3000)
        );
        assert_eq!(u.to_string(), "http://127.0.0.1:3000");
        let u = BaseUrl::parse("HTTP://localhost/api/").unwrap();
        assert_eq!(
            (
                u.host_header(),
                u.prefix(),
                u.host_port().to_string().as_str()
            ),
            ("localhost", "/api", "localhost:80")
        );
        let u = BaseUrl::parse("http://[::1]:8080/v1").unwrap();
        assert_eq!(
            (u.host_port().ip(), u.host_header(), u.prefix()),
            (Some("::1".parse().unwrap()), "[::1]:8080", "/v1")
        );
        assert!(u.resolve().unwrap()[0].is_ipv6());
        // An IPv6 host without a port: port 80, and the brackets stay out of the port.
        let u = BaseUrl::parse("http://[::1]/api").unwrap();
        assert_eq!(u.host_port().to_string(), "[::1]:80");
        assert_eq!(u.host_header(), "[::1]");
    }

    #[test]
    fn rejected_base_urls() {
        for bad in [
            "https://x",
            "ftp://x",
            "127.0.0.1:3000",
            "localhost:3000",
            "http://",
            "http://x:0",
            "http://x:99999",
            "http://x?a=1",
            "http://x/#top",
            "http://u@x",
            "http://u:p@x",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(BaseUrl::parse("https://x")
            .unwrap_err()
            .to_string()
            .contains("https is not supported"));
    }

    #[test]
    fn ws_urls() {
        let hp = ws_host_port("ws://127.0.0.1:9229/abc").unwrap();
        assert_eq!((hp.ip(), hp.port()), (Some([127, 0, 0, 1].into()), 9229));
        let hp = ws_host_port("ws://[::1]:9229/abc").unwrap();
        assert_eq!(hp.to_string(), "[::1]:9229");
        assert_eq!(
            ws_host_port("ws://LocalHost:80/x").unwrap().host(),
            &Host::Domain("localhost".to_owned())
        );
        assert!(matches!(
            ws_host_port("ws://127.0.0.1/x"),
            Err(UrlError::NoPort { .. })
        ));
        assert!(matches!(
            ws_host_port("wss://127.0.0.1:9229/x"),
            Err(UrlError::Wss { .. })
        ));
        assert!(matches!(
            ws_host_port("http://127.0.0.1:9229/x"),
            Err(UrlError::Scheme { .. })
        ));
        assert!(matches!(
            ws_host_port("ws://evil@127.0.0.1:1/x"),
            Err(UrlError::UserInfo { .. })
        ));
    }
}
