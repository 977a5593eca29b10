//! Measures how many requests per second the runner sustains against a URL.
//!
//! ```text
//! node crates/load/tests/fixtures/trivial-server.js 3000 &
//! cargo run --release -p leakhunt-load --example throughput -- http://127.0.0.1:3000/ --requests 200000 --concurrency 4
//! ```
//!
//! Each request is one iteration of a one-step scenario (GET the URL's path), so this is
//! the runner's raw speed: keep-alive connections, one thread per concurrency slot.

use std::process::ExitCode;
use std::time::Duration;

use leakhunt_load::{run, RunOptions, Scenario, Step, DEFAULT_TIMEOUT};

fn main() -> ExitCode {
    match main_inner() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("throughput: {message}");
            ExitCode::FAILURE
        }
    }
}

fn main_inner() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: throughput URL [--requests N] [--concurrency C]";
    let mut url = None;
    let mut requests: u64 = 100_000;
    let mut concurrency: usize = 4;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{usage}"))
        };
        match arg.as_str() {
            "--requests" | "-n" => {
                requests = value("--requests")?
                    .parse()
                    .map_err(|e| format!("--requests: {e}"))?
            }
            "--concurrency" | "-c" => {
                concurrency = value("--concurrency")?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--help" | "-h" => return Err(usage.into()),
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => return Err(format!("unexpected argument '{arg}'\n{usage}").into()),
        }
    }
    let url = url.ok_or(usage)?;

    // Split http://host:port/path into the base URL and the step's path.
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let (base, path) = match url[after_scheme..].find('/') {
        Some(at) => url.split_at(after_scheme + at),
        None => (url.as_str(), "/"),
    };
    let scenario = Scenario::new(vec![Step::new("GET", path)], requests, concurrency);

    let opts = |range| RunOptions {
        base_url: base.to_owned(),
        iterations: range,
        concurrency,
        connect_timeout: DEFAULT_TIMEOUT,
        timeout: Duration::from_secs(10),
    };
    // A short warm-up so the server's JIT and the connections are ready.
    run(&scenario, &opts(0..(requests / 20).max(100)), &|_| {})?;
    let stats = run(&scenario, &opts(0..requests), &|_| {})?;

    println!("{}", stats.summary_line());
    println!(
        "leakhunt-load: {:.0} requests/s (concurrency {concurrency}, p90 {:.2} ms, max {:.2} ms)",
        stats.requests_per_second,
        stats.latency.p90.as_secs_f64() * 1000.0,
        stats.latency.max.as_secs_f64() * 1000.0,
    );
    if stats.failed > 0 {
        println!("failures: {:?}", stats.errors);
    }
    Ok(())
}
