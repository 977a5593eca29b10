//! The hunt itself: warm up, then snapshot after each round, then diagnose.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use leakhunt_diagnosis::leaks::facts::Facts;
use leakhunt_diagnosis::leaks::{diagnose_measured, LeakError, Measured};
use leakhunt_diagnosis::source_map::SourceMaps;
use leakhunt_engine::SnapshotError;
use leakhunt_inspector::{last_words, InspectorError};
use leakhunt_load::{run_until, RunError, RunOptions, RunStats, Stop};

use crate::config::{HuntConfig, TargetSpec};
use crate::events::{HuntEvent, Observer};
use crate::memory::memory_after_gc;
use crate::out_dir;
use crate::report::{round_load, HuntReport, MemoryAfterGc, ScenarioInfo};
use crate::service::{self, Death, Service};
use crate::stream::parse_in_background;

/// Wrapped errors are `transparent`: their message is the whole message, and they are not
/// repeated as a `source()` (error reporters that print the chain would say them twice).
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error(transparent)]
    Inspector(#[from] InspectorError),
    #[error(transparent)]
    Load(#[from] RunError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Diagnosis(#[from] LeakError),
    #[error("cannot find a free port for the service: {0}")]
    FreePort(std::io::Error),
    #[error("the snapshot parser crashed")]
    ParserCrashed,
    #[error("cannot write the report as JSON: {0}")]
    ReportJson(#[from] serde_json::Error),
    #[error("cannot write {}: {error}", path.display())]
    WriteReport {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("the service did not accept connections on {addr} within {seconds} s (it gets that port in $PORT; if it listens elsewhere, give its address with --base-url){}", last_output(.output))]
    NotReady {
        addr: String,
        seconds: u64,
        output: Vec<String>,
    },
    #[error("{}", listens_elsewhere(.expected, .ports, *.port_given))]
    ListensElsewhere {
        /// `host:port` where requests would go.
        expected: String,
        /// Where the service's processes listen instead.
        ports: Vec<u16>,
        /// The expected address came from --base-url or the scenario, not from $PORT.
        port_given: bool,
    },
    #[error("{}", died(.during, .death, .kept))]
    ServiceDied {
        /// "the warm-up", "round 2 of 3", "snapshot 2".
        during: String,
        death: Box<Death>,
        /// Snapshots already written (they stay).
        kept: Vec<PathBuf>,
    },
    #[error("attached to a running service: say where to send requests with --base-url or the scenario's base_url")]
    NoBaseUrl,
    #[error("bad base URL {0}")]
    BadBaseUrl(#[from] leakhunt_load::UrlError),
    #[error("a hunt needs at least 2 rounds after the warm-up (--rounds 2): growth must show at every step")]
    TooFewSnapshots,
    /// The load would send no request, so any verdict would be about nothing.
    #[error("nothing to measure: {0}")]
    NothingToMeasure(String),
    #[error(transparent)]
    OutDir(#[from] crate::out_dir::OutDirError),
}

fn listens_elsewhere(expected: &str, ports: &[u16], port_given: bool) -> String {
    let at: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let first = ports.first().copied().unwrap_or_default();
    if port_given {
        format!(
            "the service listens on {}, not on {expected} (from --base-url or the scenario's base_url): give the right one, e.g. --base-url http://127.0.0.1:{first}",
            at.join(", ")
        )
    } else {
        format!(
            "the service listens on {}, not on {expected}, the port it got in $PORT: make it listen on process.env.PORT, or give its address with --base-url http://127.0.0.1:{first}",
            at.join(", ")
        )
    }
}

/// A few lines: what ended, when, and why (the exception's message and the top of its stack,
/// or the service's last words), then where the snapshots already taken are.
fn died(during: &str, death: &Death, kept: &[PathBuf]) -> String {
    let status = death
        .status
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let mut text = match &death.exception {
        Some(exception) => {
            let mut lines = exception.lines();
            let message: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.trim_start().starts_with("at "))
                .take(3)
                .collect();
            let frames: Vec<&str> = exception
                .lines()
                .filter(|l| l.trim_start().starts_with("at "))
                .take(3)
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("Uncaught ").unwrap_or(&message);
            let mut t = format!("the service crashed during {during}{status}: uncaught {message}");
            for f in frames {
                t.push_str("\n    ");
                t.push_str(f.trim());
            }
            t
        }
        None if death.status.is_some() => format!(
            "the service ended during {during}{status}{}",
            last_output(&last_words(&death.output))
        ),
        None => {
            format!("the service stopped answering its inspector during {during} (did it exit?)")
        }
    };
    if !kept.is_empty() {
        let dir = kept[0].parent().unwrap_or(Path::new("."));
        let names: Vec<String> = kept
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        text.push_str(&format!(
            "\nthe snapshots taken before stay in {}: {}",
            dir.display(),
            names.join(", ")
        ));
    }
    text
}

fn last_output(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        let tail: Vec<&str> = lines
            .iter()
            .rev()
            .take(5)
            .rev()
            .map(String::as_str)
            .collect();
        format!("; its last output: {}", tail.join(" | "))
    }
}

/// A snapshot being parsed and measured in the background.
type Pending = JoinHandle<Result<Measured, SnapshotError>>;

/// Runs the hunt described by `config`.
pub fn hunt(config: &HuntConfig, observer: &dyn Observer) -> Result<HuntReport, HuntError> {
    if config.snapshots < 3 {
        return Err(HuntError::TooFewSnapshots);
    }
    if config.scenario.iterations == 0 {
        return Err(HuntError::NothingToMeasure(
            "the rounds have 0 iterations".into(),
        ));
    }
    if config.scenario.steps.is_empty() {
        return Err(HuntError::NothingToMeasure(
            "the scenario has no steps".into(),
        ));
    }
    let created = out_dir::prepare(&config.out_dir)?;
    let result = hunt_in(config, observer);
    if result.is_err() && created {
        // Nothing was written: leave no empty folder behind (a snapshot, if one was taken,
        // keeps the folder).
        out_dir::remove_if_empty(&config.out_dir);
    }
    result
}

fn hunt_in(config: &HuntConfig, observer: &dyn Observer) -> Result<HuntReport, HuntError> {
    let scenario = &config.scenario;
    let base_url = config.base_url.as_deref().or(scenario.base_url.as_deref());
    let mut service = service::start(&config.target, base_url, config.ready_timeout, observer)?;

    let per_round = scenario.iterations;
    let mut tracking = false;
    let ladder = rounds_and_snapshots(config, &mut service, &mut tracking, observer);
    if tracking && ladder.is_err() && !service.gone() {
        // A service we attached to keeps running: leave it as we found it. (Closing the
        // session would stop the tracking too; this says so at once.)
        let _ = service.session.stop_allocation_tracking();
    }
    if config.allocation_stacks && !service.is_launched() && !service.gone() {
        crate::tracking::restore_optimizations(&mut service.session);
    }
    let Ladder {
        load,
        heap_after_gc,
        memory,
        earlier,
        last,
    } = ladder?;

    // The scripts loaded while the load ran too (the Debugger is off during the rounds:
    // see `Session::enable`). Without them, locations in those scripts only lose their
    // source maps: not worth failing the hunt for.
    let _ = service.session.refresh_scripts();
    let mut maps = SourceMaps::new();
    for s in service.session.scripts() {
        maps.announce(&s.url, &s.source_map_url);
    }
    let mut leak_options = config.leak_options.clone();
    if let (TargetSpec::Launch { cwd: Some(dir), .. }, None) =
        (&config.target, &leak_options.paths_relative_to)
    {
        // Node resolves its scripts' real paths; show them relative to the service's folder.
        leak_options.paths_relative_to = Some(dir.canonicalize().unwrap_or_else(|_| dir.clone()));
    }
    let mut leaks = diagnose_measured(earlier, last, &leak_options, &mut maps)?;
    crate::report::note_one_entry_per_new_key(&mut leaks, scenario, per_round);
    let measured_iterations = per_round * (config.snapshots as u64 - 1);
    let report = HuntReport {
        leaks,
        runtime: service.runtime.clone(),
        command: match &config.target {
            TargetSpec::Launch { command, .. } => Some(command.join(" ")),
            _ => None,
        },
        scenario: ScenarioInfo {
            source: config.scenario_source.clone(),
            steps: scenario.steps.iter().map(|s| s.label()).collect(),
            iterations_per_round: per_round,
            concurrency: scenario.concurrency,
        },
        rounds: config.snapshots - 1,
        iterations: measured_iterations,
        growth_bytes_per_iteration: HuntReport::growth_per_iteration(
            &heap_after_gc,
            measured_iterations,
        ),
        heap_after_gc_bytes: heap_after_gc,
        growth_gate: None,
        load,
        out_dir: Some(config.out_dir.display().to_string()),
        memory_after_gc: Vec::new(),
        memory_growth_bytes_per_iteration: None,
        rss_growth_bytes_per_iteration: None,
        grows_outside_js_heap: false,
    }
    .with_memory(memory.unwrap_or_default());
    write_report(&config.out_dir.join("report.json"), &report)?;
    Ok(report)
}

/// What the rounds measured: the load, the heap after each GC, and the snapshots' measures
/// (the last one in full).
struct Ladder {
    load: Vec<leakhunt_findings::RoundLoad>,
    heap_after_gc: Vec<u64>,
    memory: Option<Vec<MemoryAfterGc>>,
    earlier: Vec<Facts>,
    last: Measured,
}

/// The warm-up and the rounds, each followed by a snapshot.
///
/// Allocation tracking (`config.allocation_stacks`) is on for the tail of the last round
/// only ([`crate::tracking`]). `tracking` says whether it is on (when the runtime cannot
/// track, the hunt goes on without stacks); it is turned off as soon as the last snapshot
/// is taken.
fn rounds_and_snapshots(
    config: &HuntConfig,
    service: &mut Service,
    tracking: &mut bool,
    observer: &dyn Observer,
) -> Result<Ladder, HuntError> {
    let scenario = &config.scenario;
    let per_round = scenario.iterations;
    if config.allocation_stacks {
        // Before any load, so that everything the load makes V8 optimize keeps its stacks.
        crate::tracking::keep_stacks_whole(&mut service.session);
    }
    let warmup = config.warmup_iterations.unwrap_or(per_round);
    let mut next_iteration = 0u64;
    let mut load = Vec::new();
    let mut heap_after_gc = Vec::new();
    // `process.memoryUsage()` at each snapshot, `None` once the target could not say. Read
    // once before the warm-up too: what the first reading loads into the target is then
    // there in every snapshot, not new in the second.
    let mut memory: Option<Vec<MemoryAfterGc>> =
        memory_after_gc(&mut service.session)?.map(|_| Vec::new());
    let mut earlier: Vec<Facts> = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut files = Vec::new();

    for index in 0..config.snapshots {
        let iterations = if index == 0 { warmup } else { per_round };
        let during = if index == 0 {
            "the warm-up".to_string()
        } else {
            format!("round {index} of {}", config.snapshots - 1)
        };
        let last_round = index + 1 == config.snapshots;
        let track_from = (config.allocation_stacks && last_round)
            .then(|| crate::tracking::tracked_from(iterations));
        let stats = round(
            service,
            scenario,
            Round {
                iterations,
                first: next_iteration,
                index,
                rounds: config.snapshots,
                track_from,
            },
            tracking,
            observer,
        );
        // Whatever the load saw, a service that died explains it.
        if service.gone() {
            return Err(service_died(service, &during, &files));
        }
        let stats = stats?;
        next_iteration += iterations;
        let this_round = round_load(&stats);
        observer.event(HuntEvent::RoundFinished {
            round: index,
            stats: &stats,
            timeouts: &this_round.timeouts,
        });
        load.push(this_round);

        let path = config.out_dir.join(format!("s{}.heapsnapshot", index + 1));
        let taken = snapshot(service, &path, index, config.snapshots, observer);
        if taken.is_err() && service.gone() {
            let during = format!("snapshot {}", index + 1);
            return Err(service_died(service, &during, &files));
        }
        let (used, after_gc, parser) = taken?;
        heap_after_gc.push(used);
        memory = match (memory, after_gc) {
            (Some(mut all), Some(m)) => {
                all.push(m);
                Some(all)
            }
            _ => None,
        };
        observer.event(HuntEvent::SnapshotSaved {
            index,
            path: &path,
            heap_used: used,
        });
        files.push(path);
        // The previous snapshot's measures were taken while this round ran.
        if let Some(p) = pending.replace(parser) {
            earlier.push(join(p)?.into_facts());
        }
    }
    observer.event(HuntEvent::Diagnosing);
    let last = join(pending.take().expect("at least one snapshot"))?;

    if *tracking {
        *tracking = false;
        let _ = service.session.stop_allocation_tracking();
    }
    Ok(Ladder {
        load,
        heap_after_gc,
        memory,
        earlier,
        last,
    })
}

/// The service is gone: why, and what stays.
fn service_died(service: &mut Service, during: &str, kept: &[PathBuf]) -> HuntError {
    HuntError::ServiceDied {
        during: during.to_string(),
        death: Box::new(service.death()),
        kept: kept.to_vec(),
    }
}

/// Which round to run, and from which of its iterations to track allocations.
struct Round {
    iterations: u64,
    first: u64,
    index: usize,
    rounds: usize,
    track_from: Option<u64>,
}

fn round(
    service: &mut Service,
    scenario: &leakhunt_load::Scenario,
    r: Round,
    tracking: &mut bool,
    observer: &dyn Observer,
) -> Result<RunStats, HuntError> {
    let Round {
        iterations,
        first,
        index,
        rounds,
        track_from,
    } = r;
    observer.event(HuntEvent::RoundStarted {
        round: index,
        rounds,
        iterations,
    });
    let mut opts = RunOptions::for_scenario(scenario, &service.base_url, first);
    opts.iterations = first..first + iterations;
    // Progress comes from the load's worker threads; the observer is not Sync, so the
    // workers only count and this thread reports.
    let done = std::sync::atomic::AtomicU64::new(0);
    let stop = Stop::new();
    let gate = match track_from {
        Some(0) => {
            *tracking = service.session.start_allocation_tracking().is_ok();
            None
        }
        Some(at) => Some(crate::tracking::Gate::new(at)),
        None => None,
    };
    let stats = std::thread::scope(|s| {
        let worker = s.spawn(|| {
            run_until(
                scenario,
                &opts,
                &|d| {
                    done.store(d, std::sync::atomic::Ordering::Relaxed);
                    if let Some(g) = &gate {
                        g.pass(d);
                    }
                },
                &stop,
            )
        });
        while !worker.is_finished() {
            if let Some(g) = gate.as_ref().filter(|g| g.waiting()) {
                *tracking = service.session.start_allocation_tracking().is_ok();
                g.open();
            }
            // Reading the inspector is the progress tick, and it shows at once when the
            // service dies under load: then the load stops rather than wait out its timeouts.
            // Shorter while workers may be about to wait at the gate.
            let tick = if gate.is_some() { 10 } else { 100 };
            if service.watch(std::time::Duration::from_millis(tick)) {
                stop.stop();
                if let Some(g) = &gate {
                    g.open();
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            observer.event(HuntEvent::LoadProgress {
                done: done.load(std::sync::atomic::Ordering::Relaxed),
                of: iterations,
            });
        }
        worker.join().expect("load thread")
    })?;
    Ok(stats)
}

/// Two full collections (the second gets what finalizers of the first released), the heap
/// in use, then the snapshot streamed to `path` and to a background parser.
fn snapshot(
    service: &mut Service,
    path: &Path,
    index: usize,
    of: usize,
    observer: &dyn Observer,
) -> Result<(u64, Option<MemoryAfterGc>, Pending), HuntError> {
    let session = &mut service.session;
    session.collect_garbage()?;
    session.collect_garbage()?;
    let (used, _) = session.heap_usage()?;
    let after_gc = memory_after_gc(session)?;
    let (mut feed, parser) = parse_in_background(path.display().to_string(), index + 1 == of);
    let result = session.snapshot_to_file_with_progress(path, Some(&mut feed), &mut |p| {
        observer.event(HuntEvent::SnapshotProgress {
            index,
            of,
            bytes: p.bytes,
        });
    });
    feed.finish();
    match result {
        Ok(_) => Ok((used, after_gc, parser)),
        Err(e) => {
            let _ = parser.join();
            Err(e.into())
        }
    }
}

fn join(p: Pending) -> Result<Measured, HuntError> {
    Ok(p.join().map_err(|_| HuntError::ParserCrashed)??)
}

/// Writes `report` as JSON to `path`: under a temporary name, never through a symlink, mode
/// 0600, then renamed into place (`leakhunt_atomic_write`).
pub fn write_report(path: &Path, report: &HuntReport) -> Result<(), HuntError> {
    let text = serde_json::to_string_pretty(report)?;
    leakhunt_atomic_write::write(path, (text + "\n").as_bytes()).map_err(|error| {
        HuntError::WriteReport {
            path: path.to_path_buf(),
            error,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_is_told_in_a_few_lines() {
        let death = Death {
            status: Some("exit status 1".into()),
            exception: Some(
                "Error: boom\n    at check (/srv/app.js:11:28)\n    at GET (/srv/app.js:17:5)\n    \
                 at serve (/srv/serve.js:22:38)\n    at emit (node:events:524:28)"
                    .into(),
            ),
            output: vec!["a line of the service's log".into(); 40],
        };
        let kept = [PathBuf::from("/out/s1.heapsnapshot")];
        let text = died("round 1 of 2", &death, &kept);
        assert_eq!(
            text,
            "the service crashed during round 1 of 2 (exit status 1): uncaught Error: boom\n    \
             at check (/srv/app.js:11:28)\n    at GET (/srv/app.js:17:5)\n    \
             at serve (/srv/serve.js:22:38)\n\
             the snapshots taken before stay in /out: s1.heapsnapshot"
        );

        let thrown = Death {
            exception: Some("\"oops\"".into()),
            ..Death::default()
        };
        assert_eq!(
            died("the warm-up", &thrown, &[]),
            "the service crashed during the warm-up: uncaught \"oops\""
        );

        let exited = Death {
            status: Some("exit status 3".into()),
            exception: None,
            output: vec!["bye".into(), String::new(), "Node.js v20.20.2".into()],
        };
        assert_eq!(
            died("snapshot 2", &exited, &[]),
            "the service ended during snapshot 2 (exit status 3); its last output: bye"
        );
        assert_eq!(
            died("round 2 of 2", &Death::default(), &[]),
            "the service stopped answering its inspector during round 2 of 2 (did it exit?)"
        );
    }
}
