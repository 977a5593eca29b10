//! Ports for tests. A port "nothing listens on" picked by binding port 0 and letting it go
//! races with every other process binding ports (a parallel test's server may get it). A
//! [`ClosedPort`] stays bound without listening: connections to it are refused, and no one
//! else can take it while the guard lives.

use std::net::{Ipv4Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

/// A loopback TCP port held without listening: connecting gets "connection refused".
pub struct ClosedPort {
    _socket: Socket,
    port: u16,
}

impl ClosedPort {
    pub fn new() -> ClosedPort {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("socket");
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        socket.bind(&addr.into()).expect("bind 127.0.0.1:0");
        let port = socket
            .local_addr()
            .expect("local address")
            .as_socket()
            .expect("an IP socket")
            .port();
        ClosedPort {
            _socket: socket,
            port,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Default for ClosedPort {
    fn default() -> Self {
        ClosedPort::new()
    }
}

/// Node's default inspector port, which `SIGUSR1` opens: tests that send it run one at a
/// time (a nextest test group, names containing "pid"; this lock covers `cargo test`'s
/// threads) and first wait until nothing holds the port, as another suite on the machine
/// may be using it.
pub fn inspector_port_9229() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let free = crate::poll_until(std::time::Duration::from_secs(90), || {
        std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, 9229)).is_err()
    });
    assert!(free, "127.0.0.1:9229 stays busy");
    guard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connecting_is_refused_and_the_port_stays_taken() {
        let closed = ClosedPort::new();
        let err = std::net::TcpStream::connect(("127.0.0.1", closed.port())).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        assert!(std::net::TcpListener::bind(("127.0.0.1", closed.port())).is_err());
    }
}
