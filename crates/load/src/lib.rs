//! leakhunt's load runner: scenarios in, HTTP traffic out, counts back.
//!
//! leakhunt finds leaks by driving a service with the same work round after round and
//! diffing heap snapshots taken between rounds. This crate is the "same work" part:
//!
//! - [`Scenario`] — what one virtual user does, from a TOML file ([`Scenario::from_file`]) or
//!   from one-line requests ([`parse_request_line`], [`Scenario::from_request_lines`]).
//!   Strings may contain `{{i}}`, the user's number within the round (every round replays
//!   the same users), and `{{seq}}`, which counts across rounds and never repeats
//!   ([`template`]). Loading checks everything and reports one-line errors with file and line.
//! - [`run`] — runs a range of iterations with a given concurrency over plain HTTP/1.1
//!   keep-alive connections (a small blocking client of our own, in `http.rs`, fast
//!   enough to saturate a Node process from one core). Each iteration has its own cookie jar
//!   ([`cookies`]), so sessions behave as real users' do, and its own [`capture`]d values
//!   (`capture = { id = "$.id" }` on a step, `{{id}}` in later ones). Every request is
//!   bounded by a timeout (`timeout = "5s"`, [`parse_duration`]): a response that never
//!   ends, an event stream or a parked long poll, is cut there and counted as timed out.
//! - [`RunStats`] — requests, failures by cause, statuses, latency percentiles, and a
//!   [`summary_line`](RunStats::summary_line) for people.
//! - [`wait_until_accepting`] — waits for a freshly started service to listen.
//!
//! ```no_run
//! use leakhunt_load::{run, RunOptions, Scenario};
//!
//! let scenario = Scenario::from_file("scenario.toml")?;
//! let mut first = 0;
//! for _round in 0..3 {
//!     let opts = RunOptions::for_scenario(&scenario, "http://127.0.0.1:3000", first);
//!     first = opts.iterations.end; // `{{seq}}` continues across rounds, `{{i}}` restarts
//!     let stats = run(&scenario, &opts, &|_done| {})?;
//!     println!("{}", stats.summary_line());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod capture;
pub mod cookies;
mod duration;
mod http;
mod kept;
mod request;
mod runner;
mod scenario;
mod stats;
pub mod template;

pub use duration::{parse_duration, show_duration};
pub use leakhunt_http_wire::{BaseUrl, UrlError};
pub use runner::{
    run, run_until, wait_until_accepting, wait_until_accepting_while, RunError, RunOptions, Stop,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use scenario::{
    parse_request_line, Body, Scenario, ScenarioError, Step, StepError, DEFAULT_CONCURRENCY,
    DEFAULT_ITERATIONS, MAX_CONCURRENCY, METHODS,
};
pub use stats::{Latency, RunStats, StepStats};
pub use template::{Numbers, Template};
