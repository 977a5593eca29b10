//! Running scenarios against the test servers, and reading what they logged.

use std::time::Duration;

use leakhunt_load::{run, RunError, RunOptions, RunStats, Scenario, DEFAULT_TIMEOUT};

use super::Server;

pub fn options(
    server_url: &str,
    iterations: std::ops::Range<u64>,
    concurrency: usize,
) -> RunOptions {
    RunOptions {
        base_url: server_url.to_owned(),
        iterations,
        concurrency,
        connect_timeout: DEFAULT_TIMEOUT,
        timeout: Duration::from_secs(5),
    }
}

pub fn lines(requests: &[&str]) -> Scenario {
    Scenario::from_request_lines(requests, 1, 1).unwrap()
}

pub fn run_quietly(scenario: &Scenario, opts: &RunOptions) -> Result<RunStats, RunError> {
    run(scenario, opts, &|_| {})
}

/// method, url, x-trace, content-type, body: one logged request.
pub type Logged = (String, String, Option<String>, Option<String>, String);

pub fn logged(server: &Server) -> Vec<Logged> {
    server
        .get_json("/_log")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().into(),
                e["url"].as_str().unwrap().into(),
                e["trace"].as_str().map(Into::into),
                e["contentType"].as_str().map(Into::into),
                e["body"].as_str().unwrap().into(),
            )
        })
        .collect()
}
