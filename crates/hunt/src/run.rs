//! The hunt itself: warm up, then snapshot after each round, then diagnose.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use leakhunt_diagnosis::leaks::facts::Facts;
use leakhunt_diagnosis::leaks::{diagnose_measured, LeakError, Measured};
use leakhunt_diagnosis::source_map::SourceMaps;
use leakhunt_engine::SnapshotError;
use leakhunt_inspector::InspectorError;
use leakhunt_load::{run, RunError, RunOptions, RunStats};

use crate::config::{HuntConfig, TargetSpec};
use crate::events::{HuntEvent, Observer};
use crate::report::{HuntReport, RoundLoad, ScenarioInfo};
use crate::service::{self, Service};
use crate::stream::parse_in_background;

#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error("{0}")]
    Inspector(#[from] InspectorError),
    #[error("{0}")]
    Load(#[from] RunError),
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    #[error("{0}")]
    Diagnosis(#[from] LeakError),
    #[error("{0}")]
    Io(String),
    #[error("the service did not accept connections on {addr} within {seconds} s{}", last_output(.output))]
    NotReady {
        addr: String,
        seconds: u64,
        output: Vec<String>,
    },
    #[error("attached to a running service: say where to send requests with --base-url or the scenario's base_url")]
    NoBaseUrl,
    #[error("base URL {0}: only http://host:port URLs are supported")]
    BadBaseUrl(String),
    #[error("a hunt needs at least 3 snapshots (--rounds 3): growth must show at every step")]
    TooFewSnapshots,
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
    std::fs::create_dir_all(&config.out_dir)
        .map_err(|e| HuntError::Io(format!("cannot create {}: {e}", config.out_dir.display())))?;
    let scenario = &config.scenario;
    let base_url = config.base_url.as_deref().or(scenario.base_url.as_deref());
    let mut service = service::start(&config.target, base_url, config.ready_timeout, observer)?;

    let per_round = scenario.iterations;
    let warmup = config.warmup_iterations.unwrap_or(per_round);
    let mut next_iteration = 0u64;
    let mut load = Vec::new();
    let mut heap_after_gc = Vec::new();
    let mut earlier: Vec<Facts> = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut files = Vec::new();

    for index in 0..config.snapshots {
        let iterations = if index == 0 { warmup } else { per_round };
        let stats = round(
            &service,
            scenario,
            iterations,
            next_iteration,
            index,
            config.snapshots,
            observer,
        )?;
        next_iteration += iterations;
        observer.event(HuntEvent::RoundFinished {
            round: index,
            stats: &stats,
        });
        load.push(RoundLoad::from(&stats));
        service.check_running()?;

        let path = config.out_dir.join(format!("s{}.heapsnapshot", index + 1));
        let (used, parser) = snapshot(&mut service, &path, index, config.snapshots, observer)?;
        heap_after_gc.push(used);
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
    let leaks = diagnose_measured(earlier, last, &leak_options, &mut maps)?;
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
        iterations: measured_iterations,
        growth_bytes_per_iteration: HuntReport::growth_per_iteration(
            &heap_after_gc,
            measured_iterations,
        ),
        heap_after_gc_bytes: heap_after_gc,
        growth_gate: None,
        load,
    };
    write_report(&config.out_dir.join("report.json"), &report)?;
    Ok(report)
}

fn round(
    service: &Service,
    scenario: &leakhunt_load::Scenario,
    iterations: u64,
    first: u64,
    index: usize,
    rounds: usize,
    observer: &dyn Observer,
) -> Result<RunStats, HuntError> {
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
    let stats = std::thread::scope(|s| {
        let worker = s.spawn(|| {
            run(scenario, &opts, &|d| {
                done.store(d, std::sync::atomic::Ordering::Relaxed);
            })
        });
        while !worker.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(100));
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
) -> Result<(u64, Pending), HuntError> {
    let session = &mut service.session;
    session.collect_garbage()?;
    session.collect_garbage()?;
    let (used, _) = session.heap_usage()?;
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
        Ok(_) => Ok((used, parser)),
        Err(e) => {
            let _ = parser.join();
            Err(e.into())
        }
    }
}

fn join(p: Pending) -> Result<Measured, HuntError> {
    Ok(p.join()
        .map_err(|_| HuntError::Io("the snapshot parser crashed".into()))??)
}

/// Writes `report` as JSON to a temporary name, then renames it into place.
pub fn write_report(path: &Path, report: &HuntReport) -> Result<(), HuntError> {
    let tmp: PathBuf = path.with_extension("json.partial");
    let text = serde_json::to_string_pretty(report).map_err(|e| HuntError::Io(e.to_string()))?;
    std::fs::write(&tmp, text + "\n")
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| HuntError::Io(format!("cannot write {}: {e}", path.display())))
}
