//! What a run did: request counts, statuses, failures and latency percentiles.
//!
//! Each worker thread counts into its own [`Tally`] (no locks or atomics per request) and
//! the tallies are merged once at the end. Latencies go into a fixed log-linear histogram
//! (about 1.6 % precision) rather than a list, so memory stays constant however long a run is.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Results of one [`run`](crate::run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Iterations completed (each ran every step, whether or not its requests failed).
    pub iterations: u64,
    /// Requests attempted, failed ones included.
    pub requests: u64,
    /// Requests that failed: no complete response, or a status other than `expect_status`.
    pub failed: u64,
    /// Responses received, by status.
    pub by_status: BTreeMap<u16, u64>,
    /// Failures by description, e.g. `connection refused (http://127.0.0.1:3000)` or
    /// `unexpected status 500 at POST /api/login (expected 200)`.
    pub errors: BTreeMap<String, u64>,
    /// TCP connections opened (one per worker with keep-alive; more after `Connection:
    /// close`, dropped connections or failures).
    pub connections: u64,
    /// Wall time of the run.
    pub duration: Duration,
    /// `requests / duration`.
    pub requests_per_second: f64,
    /// Latency of requests that got a response (send to end of body).
    pub latency: Latency,
    /// Requests ended by their timeout (counted in `failed` too): a response that never
    /// ended, such as an event stream or a parked long poll, or a slow endpoint.
    pub timed_out: u64,
    /// Per step, in scenario order: requests sent and how many timed out.
    pub steps: Vec<StepStats>,
}

/// One step's share of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepStats {
    /// `METHOD /path` as written.
    pub label: String,
    /// The timeout its requests had.
    pub timeout: Duration,
    pub requests: u64,
    pub timed_out: u64,
}

impl StepStats {
    /// Most of its requests (more than half) timed out: the step's responses do not end
    /// within the timeout, so each request costs the whole timeout, and the user should hear
    /// it rather than wonder why the round is slow.
    pub fn mostly_timed_out(&self) -> bool {
        self.timed_out > 0 && self.timed_out * 2 > self.requests
    }
}

/// Latency percentiles, over requests that got a complete response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl RunStats {
    /// The steps most of whose requests timed out (see [`StepStats::mostly_timed_out`]).
    pub fn steps_mostly_timed_out(&self) -> impl Iterator<Item = &StepStats> {
        self.steps.iter().filter(|s| s.mostly_timed_out())
    }

    /// The most frequent failure and its count, if any request failed.
    pub fn most_common_error(&self) -> Option<(&str, u64)> {
        // Ties go to the first in name order, so the answer does not depend on thread timing.
        self.errors
            .iter()
            .fold(None, |best: Option<(&str, u64)>, (e, n)| match best {
                Some((_, m)) if m >= *n => best,
                _ => Some((e.as_str(), *n)),
            })
    }

    /// One line for people: `3,000 requests in 2.1 s (1,428/s), 0 failed, p50 1.2 ms, p99 4.8 ms`.
    pub fn summary_line(&self) -> String {
        format!(
            "{} requests in {} ({}/s), {} failed, p50 {}, p99 {}",
            thousands(self.requests),
            seconds(self.duration),
            thousands(self.requests_per_second.round() as u64),
            thousands(self.failed),
            millis(self.latency.p50),
            millis(self.latency.p99),
        )
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{s:.2} s")
    } else if s < 100.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// One worker's counts.
pub(crate) struct Tally {
    pub iterations: u64,
    pub connections: u64,
    pub requests: u64,
    pub failed: u64,
    /// Indexed by status (0..1000); statuses are three digits by construction.
    statuses: Vec<u64>,
    errors: HashMap<String, u64>,
    latency: Histogram,
    /// Per step: requests sent, requests timed out.
    steps: Vec<(u64, u64)>,
    timed_out: u64,
}

impl Tally {
    /// A tally for a scenario of `steps` steps.
    pub fn new(steps: usize) -> Tally {
        Tally {
            iterations: 0,
            connections: 0,
            requests: 0,
            failed: 0,
            statuses: vec![0; 1000],
            errors: HashMap::new(),
            latency: Histogram::new(),
            steps: vec![(0, 0); steps],
            timed_out: 0,
        }
    }

    /// Step `index` sent a request (whatever comes of it).
    pub fn step_sent(&mut self, index: usize) {
        self.steps[index].0 += 1;
    }

    /// Step `index`'s request was ended by its timeout.
    pub fn timed_out(&mut self, index: usize, error: String) {
        self.steps[index].1 += 1;
        self.timed_out += 1;
        self.no_response(error);
    }

    /// A request that got a complete response.
    pub fn response(&mut self, status: u16, latency: Duration) {
        self.requests += 1;
        self.statuses[usize::from(status).min(999)] += 1;
        self.latency
            .record(latency.as_nanos().min(u128::from(u64::MAX)) as u64);
    }

    /// A request without a complete response.
    pub fn no_response(&mut self, error: String) {
        self.requests += 1;
        self.failure(error);
    }

    /// Marks the last counted request as failed (e.g. unexpected status).
    pub fn failure(&mut self, error: String) {
        self.failed += 1;
        *self.errors.entry(error).or_insert(0) += 1;
    }

    /// Adds up the workers' tallies; `steps` names each step and gives its timeout.
    pub fn finish(
        tallies: Vec<Tally>,
        duration: Duration,
        steps: &[(String, Duration)],
    ) -> RunStats {
        let mut stats = RunStats {
            duration,
            steps: steps
                .iter()
                .map(|(label, timeout)| StepStats {
                    label: label.clone(),
                    timeout: *timeout,
                    ..StepStats::default()
                })
                .collect(),
            ..RunStats::default()
        };
        let mut latency = Histogram::new();
        for tally in tallies {
            stats.iterations += tally.iterations;
            stats.connections += tally.connections;
            stats.requests += tally.requests;
            stats.failed += tally.failed;
            stats.timed_out += tally.timed_out;
            for (step, (sent, timed_out)) in stats.steps.iter_mut().zip(&tally.steps) {
                step.requests += sent;
                step.timed_out += timed_out;
            }
            for (status, count) in tally.statuses.iter().enumerate().filter(|(_, n)| **n > 0) {
                *stats.by_status.entry(status as u16).or_insert(0) += count;
            }
            for (error, count) in tally.errors {
                *stats.errors.entry(error).or_insert(0) += count;
            }
            latency.merge(&tally.latency);
        }
        let secs = duration.as_secs_f64();
        stats.requests_per_second = if secs > 0.0 {
            stats.requests as f64 / secs
        } else {
            0.0
        };
        stats.latency = Latency {
            p50: Duration::from_nanos(latency.quantile(0.50)),
            p90: Duration::from_nanos(latency.quantile(0.90)),
            p99: Duration::from_nanos(latency.quantile(0.99)),
            max: Duration::from_nanos(latency.max),
        };
        stats
    }
}

/// Log-linear histogram of u64 values: exact below 128, then 64 buckets per power of two.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

const SUB_BITS: u32 = 6;
const SUB_COUNT: u64 = 1 << SUB_BITS; // 64 buckets per power of two
const BUCKETS: usize = ((64 - SUB_BITS as usize) * SUB_COUNT as usize) + SUB_COUNT as usize;

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }

    fn index(value: u64) -> usize {
        if value < 2 * SUB_COUNT {
            return value as usize;
        }
        let msb = 63 - value.leading_zeros();
        let shift = msb - SUB_BITS;
        // (value >> shift) is in SUB_COUNT..2*SUB_COUNT
        (shift as u64 * SUB_COUNT + (value >> shift)) as usize
    }

    /// A value in the middle of bucket `index`.
    fn value_of(index: usize) -> u64 {
        let index = index as u64;
        if index < 2 * SUB_COUNT {
            return index;
        }
        let shift = index / SUB_COUNT - 1;
        let mantissa = index - shift * SUB_COUNT;
        (mantissa << shift) + (1u64 << shift) / 2
    }

    fn record(&mut self, value: u64) {
        self.counts[Self::index(value)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// The value at quantile `q` (0..=1), or 0 if empty.
    fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Self::value_of(index).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_ordered_and_tight() {
        let mut last = 0;
        for v in
            (0..10_000u64).chain([1 << 20, 123_456_789, 30_000_000_000, u64::MAX / 2, u64::MAX])
        {
            let i = Histogram::index(v);
            assert!(i < BUCKETS);
            assert!(i >= last || v > 10_000, "index must not decrease");
            last = i;
            let back = Histogram::value_of(i) as f64;
            assert!(
                (back - v as f64).abs() <= (v as f64) / 64.0 + 1.0,
                "{v} -> {back}"
            );
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::new();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let near = |got: u64, want: u64| (got as f64 - want as f64).abs() / want as f64 <= 0.02;
        assert!(near(h.quantile(0.5), 500_000), "{}", h.quantile(0.5));
        assert!(near(h.quantile(0.99), 990_000), "{}", h.quantile(0.99));
        assert_eq!(h.quantile(1.0), 1_000_000);
        assert_eq!(Histogram::new().quantile(0.5), 0);
    }

    #[test]
    fn steps_whose_requests_mostly_time_out_are_named() {
        let mut a = Tally::new(2);
        for _ in 0..3 {
            a.step_sent(0);
            a.response(200, Duration::from_millis(1));
            a.step_sent(1);
            a.timed_out(1, "timeout at GET /events".into());
        }
        a.step_sent(0);
        a.timed_out(0, "timeout at GET /".into());
        let steps = [
            ("GET /".to_owned(), Duration::from_secs(10)),
            ("GET /events".to_owned(), Duration::from_millis(500)),
        ];
        let stats = Tally::finish(vec![a], Duration::from_secs(1), &steps);
        assert_eq!((stats.timed_out, stats.failed), (4, 4));
        let named: Vec<&str> = stats
            .steps_mostly_timed_out()
            .map(|s| s.label.as_str())
            .collect();
        assert_eq!(named, ["GET /events"], "1 of 4 is not most");
    }

    #[test]
    fn summary() {
        let mut a = Tally::new(1);
        let mut b = Tally::new(1);
        for _ in 0..1500 {
            a.response(200, Duration::from_micros(1200));
            b.response(200, Duration::from_micros(1200));
        }
        b.no_response("connection refused (http://x)".into());
        b.response(500, Duration::from_micros(4800));
        b.failure("unexpected status 500 at GET / (expected 200)".into());
        let stats = Tally::finish(vec![a, b], Duration::from_millis(2100), &[]);
        assert_eq!(stats.requests, 3002);
        assert_eq!(stats.failed, 2);
        assert_eq!(stats.by_status, BTreeMap::from([(200, 3000), (500, 1)]));
        assert_eq!(
            stats.summary_line(),
            "3,002 requests in 2.1 s (1,430/s), 2 failed, p50 1.2 ms, p99 1.2 ms"
        );
        assert_eq!(
            stats.most_common_error(),
            Some(("connection refused (http://x)", 1))
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
