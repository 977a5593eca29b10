//! Helpers for tests that drive real Node servers.
#![allow(dead_code)] // each test file uses a different subset

pub mod runner;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use leakhunt_testkit::Service;
#[allow(unused_imports)] // each test file uses a different subset
pub use leakhunt_testkit::{ports::ClosedPort, runtime::node};

/// A Node server started from tests/fixtures; killed when dropped, even if the test panics.
pub struct Server {
    _service: Service,
    pub port: u16,
}

impl Server {
    /// Starts `node tests/fixtures/<script>` on a free port and waits until it listens.
    pub fn start(script: &str) -> Server {
        Server::start_with_env(script, &[])
    }

    /// The server binds port 0 and prints "listening <port>" once it accepts connections:
    /// no port is picked for it by binding and releasing one.
    pub fn start_with_env(script: &str, env: &[(&str, &str)]) -> Server {
        let (service, port) = Service::spawn_reporting_port(
            Command::new(node())
                .arg(fixture(script))
                .env("PORT", "0")
                .envs(env.iter().copied())
                .stderr(Stdio::inherit()),
            "listening ",
            Duration::from_secs(60),
        );
        Server {
            _service: service,
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// GET `path` on a fresh connection (not through the crate under test); the body.
    pub fn get(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to fixture");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (_, body) = response.split_once("\r\n\r\n").expect("a response head");
        body.to_owned()
    }

    /// GET `path` and parse the body as JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        serde_json::from_str(&self.get(path)).expect("JSON body")
    }
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A scratch directory for this test, emptied first.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leakhunt-load-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
