//! `leakhunt hunt`: the whole loop — run the service, drive load, snapshot, diagnose.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use leakhunt_hunt::{
    compare, hunt as run_hunt, HuntConfig, HuntEvent, HuntReport, Observer, TargetSpec,
};
use leakhunt_load::Scenario;
use leakhunt_printer::{format_bytes, format_count, Style};

use crate::cli::{AttachArgs, HuntArgs};
use crate::commands::{compare as compare_cmd, leaks};
use crate::output::print_text;
use crate::progress::Progress;
use crate::{EXIT_CLEAN, EXIT_LEAK};

/// Progress on the terminal, from the hunt's events.
pub struct Display<'a> {
    progress: &'a Progress,
    style: Style,
}

impl<'a> Display<'a> {
    pub fn new(progress: &'a Progress, style: Style) -> Display<'a> {
        Display { progress, style }
    }
}

impl Observer for Display<'_> {
    fn event(&self, e: HuntEvent) {
        match e {
            HuntEvent::Launched {
                notice: Some(n), ..
            }
            | HuntEvent::Attached {
                notice: Some(n), ..
            } => eprintln!("{}", self.style.dim(n)),
            HuntEvent::Ready { base_url, runtime } => {
                eprintln!(
                    "{}",
                    self.style.dim(&format!("{runtime} serving at {base_url}"))
                )
            }
            HuntEvent::RoundStarted {
                round,
                rounds,
                iterations,
            } => self.progress.set_label(&if round == 0 {
                format!("Warm-up: {} iterations", format_count(iterations))
            } else {
                format!(
                    "Round {round}/{}: {} iterations",
                    rounds - 1,
                    format_count(iterations)
                )
            }),
            HuntEvent::SnapshotProgress { index, of, bytes } => self.progress.set_label(&format!(
                "Snapshot {}/{of}: {}",
                index + 1,
                format_bytes(bytes)
            )),
            HuntEvent::Diagnosing => self.progress.set_label("Finding what grows"),
            _ => {}
        }
    }
}

/// The scenario from a file or one-liners, with command-line overrides.
pub fn scenario(args: &HuntArgs) -> Result<(Scenario, String)> {
    let (mut s, source) = match (&args.scenario, args.requests.is_empty()) {
        (Some(file), true) => (Scenario::from_file(file)?, file.display().to_string()),
        (None, false) => (
            Scenario::from_request_lines(
                &args.requests,
                leakhunt_load::DEFAULT_ITERATIONS,
                leakhunt_load::DEFAULT_CONCURRENCY,
            )?,
            args.requests.join(" ; "),
        ),
        (Some(_), false) => bail!("give either --scenario or --request, not both"),
        (None, true) => {
            bail!("say what load to drive: --scenario FILE or --request 'METHOD /path [json]'")
        }
    };
    if let Some(n) = args.iterations {
        s.iterations = n;
    }
    if let Some(c) = args.concurrency {
        s.concurrency = c;
    }
    Ok((s, source))
}

pub fn target(command: &[String], attach: &AttachArgs) -> Result<TargetSpec> {
    let chosen = [
        !command.is_empty(),
        attach.inspect_url.is_some(),
        attach.inspect_port.is_some(),
        attach.pid.is_some(),
    ];
    match chosen.iter().filter(|&&c| c).count() {
        0 => bail!("say which service: a command after `--` (leakhunt hunt … -- node server.js), or --inspect-url, --inspect-port or --pid"),
        1 => {}
        _ => bail!("give only one of: a command after `--`, --inspect-url, --inspect-port, --pid"),
    }
    Ok(if !command.is_empty() {
        TargetSpec::Launch {
            command: command.to_vec(),
            cwd: None,
        }
    } else if let Some(u) = &attach.inspect_url {
        TargetSpec::Url(u.clone())
    } else if let Some(p) = attach.inspect_port {
        TargetSpec::Port(p)
    } else {
        TargetSpec::Pid(attach.pid.unwrap())
    })
}

/// Creates `.leakhunt/<UTC timestamp>/`, one folder per hunt.
fn new_default_out_dir() -> Result<PathBuf> {
    Ok(leakhunt_hunt::create_out_dir(".leakhunt".as_ref())?)
}

pub fn run(args: &HuntArgs) -> Result<u8> {
    leakhunt_inspector::install_cleanup_handlers();
    let (scenario, source) = scenario(args)?;
    let target = target(&args.command, &args.attach)?;
    let previous = match &args.compare {
        Some(p) => Some(read_report(p)?),
        None => None,
    };
    let out_dir = match &args.out {
        Some(dir) => dir.clone(),
        None => new_default_out_dir()?,
    };
    let mut config = HuntConfig::new(target, scenario, out_dir);
    config.scenario_source = source;
    config.base_url = args.base_url.clone();
    // A snapshot after the warm-up and after each round.
    config.snapshots = args.rounds + 1;
    config.warmup_iterations = args.warmup;
    config.leak_options.min_bytes_per_step = args.min_growth;
    config.ready_timeout = std::time::Duration::from_secs(args.ready_timeout);
    let style = Style::for_stdout();
    let progress = Progress::new(true);
    let result = run_hunt(
        &config,
        &Display {
            progress: &progress,
            style,
        },
    );
    progress.finish();
    if result.is_err() && args.out.is_none() {
        // The folder made for this hunt, and .leakhunt/, if nothing was written into them
        // (remove_dir removes only empty folders).
        let _ = std::fs::remove_dir(&config.out_dir);
        if let Some(parent) = config.out_dir.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
    let mut report = result?;
    let gate = args.max_growth.map(|max| report.apply_growth_gate(max));
    if let Some(path) = &args.json {
        leakhunt_hunt::write_report(path, &report)?;
    }
    let mut text = render(&report, Some(&config.out_dir), style);
    if let Some(before) = &previous {
        text.push_str(&compare_cmd::render(&compare(before, &report), style));
    }
    print_text(&text)?;
    let too_much_growth = gate.is_some_and(|g| g.exceeded);
    if let Some(gate) = gate.filter(|g| g.exceeded) {
        eprintln!(
            "leakhunt: the heap grew {} per iteration, more than --max-growth-per-iteration {}",
            format_bytes(report.growth_bytes_per_iteration.max(0.0) as u64),
            format_bytes(gate.max_bytes_per_iteration)
        );
    }
    Ok(
        if too_much_growth || report.leaks.verdict == leakhunt_diagnosis::Verdict::Leak {
            EXIT_LEAK
        } else {
            EXIT_CLEAN
        },
    )
}

/// `a warm-up of 100 iterations, then 2 rounds of 1,000 iterations × 3 requests`, or
/// `a warm-up and 2 rounds of …` when the warm-up is a full round. `--rounds` counts the
/// rounds after the warm-up, as this does.
fn describe_rounds(r: &HuntReport) -> String {
    let per_round = r.scenario.iterations_per_round;
    let rounds = if r.rounds > 0 {
        r.rounds
    } else {
        r.heap_after_gc_bytes.len().saturating_sub(1)
    };
    let warmup = r.load.first().map_or(per_round, |l| l.iterations);
    let plural = |n: u64, word: &str| {
        format!(
            "{} {word}{}",
            format_count(n),
            if n == 1 { "" } else { "s" }
        )
    };
    let rounds_of = format!(
        "{} of {} × {}",
        plural(rounds as u64, "round"),
        plural(per_round, "iteration"),
        plural(r.scenario.steps.len() as u64, "request")
    );
    if warmup == per_round {
        format!("a warm-up and {rounds_of}")
    } else {
        format!(
            "a warm-up of {}, then {rounds_of}",
            plural(warmup, "iteration")
        )
    }
}

pub fn read_report(path: &Path) -> Result<HuntReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a leakhunt hunt report (hunt --json)",
            path.display()
        )
    })
}

/// The report for people: what ran, how the heap grew, then the diagnosis. `out_dir`: where
/// the snapshots and report stay, when they do.
pub fn render(r: &HuntReport, out_dir: Option<&Path>, style: Style) -> String {
    let mut t = String::new();
    let what = r.command.as_deref().unwrap_or("the attached service");
    t.push_str(&format!(
        "Hunted {} ({}) with {}: {}\n",
        style.bold(what),
        r.runtime,
        r.scenario.source,
        describe_rounds(r)
    ));
    let heaps: Vec<String> = r
        .heap_after_gc_bytes
        .iter()
        .map(|&b| format_bytes(b))
        .collect();
    let growth = r.growth_bytes_per_iteration;
    let per_iteration = if growth >= 0.0 {
        format!("+{} per iteration", format_bytes(growth as u64))
    } else {
        format!("−{} per iteration", format_bytes((-growth) as u64))
    };
    t.push_str(&format!(
        "Heap after GC: {}  ({})\n",
        heaps.join(" → "),
        style.bold(&per_iteration)
    ));
    let requests: u64 = r.load.iter().map(|l| l.requests).sum();
    let failed: u64 = r.load.iter().map(|l| l.failed).sum();
    let seconds: f64 = r.load.iter().map(|l| l.seconds).sum();
    t.push_str(&format!(
        "Load: {} requests in {:.1} s ({}/s), {} failed\n",
        format_count(requests),
        seconds,
        format_count((requests as f64 / seconds.max(1e-9)) as u64),
        format_count(failed)
    ));
    for l in &r.load {
        for (e, n) in &l.errors {
            t.push_str(&format!("  {} × {e}\n", format_count(*n)));
        }
    }
    if let Some(dir) = out_dir {
        t.push_str(&format!("Snapshots and report.json in {}\n", dir.display()));
    }
    let body = leaks::render(&r.leaks, style);
    // The ladder's first line repeats the heap sizes; keep the verdict and suspects.
    t.push_str(
        body.split_once('\n')
            .map_or(body.as_str(), |(_, rest)| rest),
    );
    t
}
