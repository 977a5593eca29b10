//! Runs a scenario's iterations against a service and counts what happened.
//!
//! One thread per concurrency slot, each with its own connection, request buffer and
//! tally. Threads take the next iteration number from a shared counter, so a slow
//! iteration never holds the others back, and every iteration in the range runs exactly once.
//!
//! Failed requests are data, not errors: a leaking service often starts failing under load,
//! and the run must go on to show it. Only a run where *every* request failed is an error,
//! because then there is nothing to measure (the service is down, or the URL is wrong).

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::cookies::CookieJar;
use crate::duration::show_duration;
use crate::http::{Client, ClientConfig, Failure};
use crate::kept::KeptConnections;
use crate::request::PreparedRequest;
use crate::scenario::{Scenario, MAX_CONCURRENCY};
use crate::stats::{RunStats, Tally};
use crate::template::Numbers;
use leakhunt_http_wire::BaseUrl;

/// Default connect timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default longest time a request may take, send to end of response, when neither the step
/// nor the scenario says: long enough for a slow endpoint, short enough that a response
/// which never ends (an event stream, a parked long poll) does not look like a hang.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How to run a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// `http://host:port[/prefix]`; step paths are appended to it.
    pub base_url: String,
    /// Iteration numbers to run: they fill `{{seq}}`, and rounds continue where the last one
    /// ended, so it never repeats. `{{i}}` counts from 0 at the start of the range, so every
    /// round replays the same users.
    pub iterations: Range<u64>,
    /// Iterations in flight at once, each on its own thread and connection:
    /// 1..=[`MAX_CONCURRENCY`], anything else is refused ([`RunError::BadConcurrency`]).
    /// Fewer run at once when the range holds fewer iterations.
    pub concurrency: usize,
    /// Longest wait for a connection to open.
    pub connect_timeout: Duration,
    /// Longest a request may take, from sending it to the end of its response, for steps
    /// without their own `timeout`. A request past it is ended (its connection closed) and
    /// counted as timed out ([`RunStats::timed_out`]).
    pub timeout: Duration,
}

impl RunOptions {
    /// Options for one round of `scenario`: its base URL if it has one, else `default_base_url`;
    /// its concurrency; its request timeout, else [`DEFAULT_REQUEST_TIMEOUT`]; iterations
    /// `first..first + scenario.iterations`.
    pub fn for_scenario(scenario: &Scenario, default_base_url: &str, first: u64) -> RunOptions {
        RunOptions {
            base_url: scenario
                .base_url
                .clone()
                .unwrap_or_else(|| default_base_url.to_owned()),
            iterations: first..first.saturating_add(scenario.iterations),
            concurrency: scenario.concurrency,
            connect_timeout: DEFAULT_TIMEOUT,
            timeout: scenario.timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
        }
    }
}

/// A run that could not start, or in which nothing succeeded.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The base URL is not `http://host[:port][/prefix]`.
    #[error("bad base URL {0}")]
    BadBaseUrl(#[from] leakhunt_http_wire::UrlError),
    /// The base URL's host does not resolve. (`error` is in the message, so it is not also
    /// given as the `source()`: error reporters that print the chain would say it twice.)
    #[error("cannot resolve {url}: {error}")]
    Resolve { url: String, error: io::Error },
    /// A concurrency the runner does not run (it would have to be changed silently).
    #[error("concurrency must be from 1 to {MAX_CONCURRENCY}, got {0}")]
    BadConcurrency(usize),
    /// Every request failed; `reason` is the most common failure.
    #[error("every request failed: {reason}")]
    AllFailed {
        reason: String,
        stats: Box<RunStats>,
    },
}

/// Ends a run early, from another thread: when the service under load crashed, its requests
/// would otherwise each wait out the I/O timeout.
#[derive(Debug, Default)]
pub struct Stop {
    stopped: AtomicBool,
    /// A handle on each worker's current connection, to shut it down.
    sockets: Mutex<Vec<Option<TcpStream>>>,
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Stops the run: requests in flight end at once (their connections are shut down, so a
    /// blocked read returns), and no new one starts. [`run_until`] then returns what was done.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Ok(sockets) = self.sockets.lock() {
            for s in sockets.iter().flatten() {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Worker `slot` now talks over `stream`.
    pub(crate) fn watch(&self, slot: usize, stream: &TcpStream) {
        let Ok(mut sockets) = self.sockets.lock() else {
            return;
        };
        if sockets.len() <= slot {
            sockets.resize_with(slot + 1, || None);
        }
        sockets[slot] = stream.try_clone().ok();
        // Stopped just before: this connection must not wait either.
        if self.is_stopped() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Runs iterations `opts.iterations` of `scenario`, `opts.concurrency` at a time.
///
/// `progress` is called with the number of iterations done so far after each iteration
/// completes, from the worker threads: keep it cheap (e.g. update an atomic or a progress
/// bar that throttles itself).
pub fn run(
    scenario: &Scenario,
    opts: &RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<RunStats, RunError> {
    run_until(scenario, opts, progress, &Stop::new())
}

/// [`run`] that ends early once `stop` is stopped; the requests cut short are not counted.
pub fn run_until(
    scenario: &Scenario,
    opts: &RunOptions,
    progress: &(dyn Fn(u64) + Sync),
    stop: &Stop,
) -> Result<RunStats, RunError> {
    if !(1..=MAX_CONCURRENCY).contains(&opts.concurrency) {
        return Err(RunError::BadConcurrency(opts.concurrency));
    }
    let base = BaseUrl::parse(&opts.base_url)?;
    let addrs = base.resolve().map_err(|error| RunError::Resolve {
        url: base.to_string(),
        error,
    })?;
    let config = ClientConfig {
        addrs,
        connect_timeout: opts.connect_timeout,
    };
    let steps: Vec<PreparedStep> = scenario
        .steps
        .iter()
        .map(|step| PreparedStep {
            request: PreparedRequest::new(step, &base),
            label: step.label(),
            expect_status: step.expect_status,
            timeout: step.timeout.unwrap_or(opts.timeout),
            capture: step.capture.clone(),
        })
        .collect();
    let captures = scenario
        .steps
        .iter()
        .flat_map(|s| &s.capture)
        .map(|c| c.slot + 1)
        .max()
        .unwrap_or(0);
    let step_timeouts: Vec<(String, Duration)> =
        steps.iter().map(|s| (s.label.clone(), s.timeout)).collect();

    let Range { start: first, end } = opts.iterations.clone();
    let count = end.saturating_sub(first);
    if count == 0 || steps.is_empty() {
        return Ok(RunStats::default());
    }
    let workers = opts
        .concurrency
        .min(usize::try_from(count).unwrap_or(usize::MAX));
    let shared = Shared {
        steps,
        captures,
        config,
        base: base.to_string(),
        first,
        next: AtomicU64::new(first),
        end,
        done: AtomicU64::new(0),
        kept: scenario.keep_alive.then_some(&*scenario.kept),
    };

    let started = Instant::now();
    let tallies = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|n| {
                thread::Builder::new()
                    .name(format!("leakhunt-load-{n}"))
                    .spawn_scoped(scope, {
                        let shared = &shared;
                        move || worker(shared, progress, stop, n)
                    })
                    .expect("spawn load worker thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let stats = Tally::finish(tallies, started.elapsed(), &step_timeouts);

    // Requests that timed out reached a service that is there (it holds them open): that
    // is load to measure, not a run to refuse.
    if stats.requests > 0 && stats.failed == stats.requests && stats.timed_out == 0 {
        let reason = stats
            .most_common_error()
            .map(|(e, _)| e.to_owned())
            .unwrap_or_default();
        return Err(RunError::AllFailed {
            reason,
            stats: Box::new(stats),
        });
    }
    Ok(stats)
}

struct PreparedStep {
    request: PreparedRequest,
    /// `METHOD /path` for failure descriptions.
    label: String,
    expect_status: Option<u16>,
    /// The step's own timeout, else the run's.
    timeout: Duration,
    capture: Vec<Capture>,
}

/// Takes each of `captures` from a response's `body` into its slot of `captured`; the first
/// that cannot be taken is the error (its slot is left empty: later steps send nothing
/// there, and are likely to fail visibly).
fn capture(captures: &[Capture], body: &[u8], captured: &mut [String]) -> Result<(), String> {
    for c in captures {
        let value = c.take(body).map_err(|why| format!("{}: {why}", c.name))?;
        captured[c.slot] = value;
    }
    Ok(())
}

/// What the workers share: read-only setup plus two counters.
struct Shared<'a> {
    steps: Vec<PreparedStep>,
    /// How many values the scenario's steps capture (slots per iteration).
    captures: usize,
    config: ClientConfig,
    base: String,
    /// The round's first iteration number: `{{i}}` counts from it.
    first: u64,
    /// The next iteration number to hand out.
    next: AtomicU64,
    end: u64,
    /// Iterations finished, for progress.
    done: AtomicU64,
    /// Where each slot's connection waits between runs, with the scenario's `keep_alive`.
    kept: Option<&'a KeptConnections>,
}

fn worker(shared: &Shared, progress: &(dyn Fn(u64) + Sync), stop: &Stop, slot: usize) -> Tally {
    let mut client = Client::new(&shared.config).stopped_by(stop, slot);
    if let Some(stream) = shared.kept.and_then(|k| k.take(slot)) {
        client.adopt(stream);
    }
    let mut jar = CookieJar::new();
    let mut request = Vec::with_capacity(1024);
    let mut tally = Tally::new(shared.steps.len());
    let mut captured = vec![String::new(); shared.captures];
    'iterations: loop {
        let iteration = shared.next.fetch_add(1, Ordering::Relaxed);
        if iteration >= shared.end || stop.is_stopped() {
            break;
        }
        // A fresh jar per iteration: one virtual user, one session; and nothing captured yet.
        jar.clear();
        captured.iter_mut().for_each(String::clear);
        // `{{i}}` restarts each round (the same users), `{{seq}}` never does.
        let numbers = Numbers::in_round(shared.first, iteration);
        for (index, step) in shared.steps.iter().enumerate() {
            step.request.write(numbers, &captured, &jar, &mut request);
            let sent = Instant::now();
            tally.step_sent(index);
            client.keep_body(!step.capture.is_empty());
            match client.exchange(&request, step.request.head, &mut jar, step.timeout) {
                Ok(status) => {
                    tally.response(status, sent.elapsed());
                    if let Some(expected) = step.expect_status.filter(|e| *e != status) {
                        tally.failure(format!(
                            "unexpected status {status} at {} (expected {expected})",
                            step.label
                        ));
                    } else if let Err(why) = capture(&step.capture, client.body(), &mut captured) {
                        tally.failure(format!("cannot capture at {}: {why}", step.label));
                    }
                }
                // Cut short by the stop, not by the service: not a result.
                Err(_) if stop.is_stopped() => break 'iterations,
                Err(Failure::Timeout) => tally.timed_out(
                    index,
                    format!(
                        "timeout at {} (no complete response within {})",
                        step.label,
                        show_duration(step.timeout)
                    ),
                ),
                Err(failure) => tally.no_response(describe(&failure, &step.label, &shared.base)),
            }
        }
        tally.iterations += 1;
        progress(shared.done.fetch_add(1, Ordering::Relaxed) + 1);
    }
    tally.connections = client.connections;
    // A run cut short by a stop leaves its connections shut: nothing to keep.
    if let (Some(kept), Some(stream)) = (shared.kept, client.into_stream()) {
        if !stop.is_stopped() {
            kept.put(slot, stream);
        }
    }
    tally
}

/// A failure as it is counted and shown: connection problems name the service, the rest
/// name the step.
fn describe(failure: &Failure, step: &str, base: &str) -> String {
    match failure {
        Failure::Refused => format!("connection refused ({base})"),
        Failure::ConnectTimeout => format!("connect timeout ({base})"),
        Failure::Connect(e) => format!("cannot connect to {base}: {e}"),
        Failure::Timeout => format!("timeout at {step}"),
        Failure::Closed => format!("connection closed before the response ended at {step}"),
        Failure::Reset => format!("connection reset at {step}"),
        Failure::BadResponse(why) => format!("bad response at {step}: {why}"),
        Failure::TooLong => {
            format!("bad response at {step}: response head or chunk line longer than 64 KiB")
        }
        Failure::Io(e) => format!("{e} at {step}"),
    }
}

/// Polls until something accepts TCP connections at `addr` (e.g. `"127.0.0.1:3000"`), for
/// at most `timeout`. Use it after starting a service, before the first run.
pub fn wait_until_accepting(addr: impl ToSocketAddrs, timeout: Duration) -> io::Result<()> {
    wait_until_accepting_while(addr, timeout, || true)
}

/// Like [`wait_until_accepting`], but gives up as soon as `keep_waiting` returns false (e.g.
/// when the service's process has exited), with an error of kind `Interrupted`.
pub fn wait_until_accepting_while(
    addr: impl ToSocketAddrs,
    timeout: Duration,
    mut keep_waiting: impl FnMut() -> bool,
) -> io::Result<()> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    let shown = addrs
        .first()
        .map_or_else(|| "(no address)".to_owned(), SocketAddr::to_string);
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    loop {
        for addr in &addrs {
            let remaining = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            match TcpStream::connect_timeout(addr, remaining.min(Duration::from_secs(1))) {
                Ok(_) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
        }
        if !keep_waiting() {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                format!("stopped waiting for {shown}"),
            ));
        }
        if Instant::now() >= deadline {
            let last = last_error.map_or_else(String::new, |e| format!(" (last error: {e})"));
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "nothing accepted connections on {shown} within {:.1} s{last}",
                    timeout.as_secs_f64()
                ),
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}
