//! `leakhunt hunt`: the whole loop — run the service, drive load, snapshot, diagnose.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use leakhunt_findings::{GrowthFigure, Verdict, SCHEMA_VERSION};
use leakhunt_hunt::{
    compare, hunt as run_hunt, HuntConfig, HuntEvent, HuntReport, Observer, TargetSpec,
};
use leakhunt_load::Scenario;
use leakhunt_printer::{format_bytes, format_count, terminal, Findings, Style};

use crate::cli::{AttachArgs, HuntArgs};

use crate::output::print_text;
use crate::progress::Progress;
use crate::reports::{self, Annotations};
use crate::{EXIT_CLEAN, EXIT_LEAK};

/// Progress on the terminal, from the hunt's events.
pub struct Display<'a> {
    progress: &'a Progress,
    style: Style,
    /// The round under way ("Warm-up", "Round 1/2"), for its progress label.
    round: std::cell::RefCell<String>,
}

impl<'a> Display<'a> {
    pub fn new(progress: &'a Progress, style: Style) -> Display<'a> {
        Display {
            progress,
            style,
            round: Default::default(),
        }
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
            } => {
                let name = if round == 0 {
                    "Warm-up".to_string()
                } else {
                    format!("Round {round}/{}", rounds - 1)
                };
                self.progress
                    .phase(&format!("{name}: {} iterations", format_count(iterations)));
                *self.round.borrow_mut() = name;
            }
            // On a terminal, how far the round got (a slow one shows it is moving); in a log,
            // nothing: a line per tick would drown it.
            HuntEvent::LoadProgress { done, of } => self.progress.set_label(&format!(
                "{}: {} / {} iterations",
                self.round.borrow(),
                format_count(done),
                format_count(of)
            )),
            HuntEvent::SnapshotProgress { index, of, bytes } => self.progress.set_label(&format!(
                "Snapshot {}/{of}: {}",
                index + 1,
                format_bytes(bytes)
            )),
            HuntEvent::RoundFinished {
                round,
                stats,
                timeouts,
            } => {
                let name = if round == 0 {
                    "Warm-up".to_string()
                } else {
                    format!("Round {round}")
                };
                let timed_out = if stats.timed_out > 0 {
                    format!(" ({} timed out)", format_count(stats.timed_out))
                } else {
                    String::new()
                };
                self.progress.note(&format!(
                    "{name} done: {} requests in {:.1} s, {} failed{timed_out}",
                    format_count(stats.requests),
                    stats.duration.as_secs_f64(),
                    format_count(stats.failed)
                ));
                // Said on a terminal too, and at once: the user may want to stop and set a
                // shorter timeout rather than wait out every round.
                for t in timeouts {
                    self.progress
                        .warn(&format!("leakhunt: {name}: {}", t.describe()));
                }
            }
            HuntEvent::SnapshotSaved {
                index,
                path,
                heap_used,
            } => self.progress.note(&format!(
                "Snapshot {} taken: {} after GC, in {}",
                index + 1,
                format_bytes(heap_used),
                path.display()
            )),
            HuntEvent::Diagnosing => self.progress.phase("Finding what grows"),
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
    if args.keep_alive {
        s.keep_alive = true;
    }
    if let Some(t) = args.request_timeout {
        s.timeout = Some(t);
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
    config.allocation_stacks = !args.no_allocation_stacks;
    let style = Style::for_stdout();
    let progress = Progress::with_phase_lines(true);
    let result = run_hunt(&config, &Display::new(&progress, style));
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
    let mut text = terminal::hunt(&report, style);
    let comparison = previous.as_ref().map(|before| compare(before, &report));
    if let Some(c) = &comparison {
        text.push_str(&terminal::comparison(c, style));
    }
    print_text(&text)?;
    let findings = match (&previous, &comparison) {
        (Some(before), Some(comparison)) => Findings::Compared {
            before,
            after: &report,
            comparison,
        },
        _ => Findings::Hunt(&report),
    };
    reports::write(&args.reports, &findings, Annotations::Stdout)?;
    let too_much_growth = gate.is_some_and(|g| g.exceeded);
    if let Some(gate) = gate.filter(|g| g.exceeded) {
        let what = match gate.figure {
            GrowthFigure::HeapUsedPlusExternal => "heap used + external memory",
            GrowthFigure::JsHeap => "the JS heap",
        };
        eprintln!(
            "leakhunt: {what} grew {} per iteration, more than --max-growth-per-iteration {}",
            format_bytes(report.gated_growth().0.max(0.0) as u64),
            format_bytes(gate.max_bytes_per_iteration)
        );
    }
    Ok(
        if too_much_growth || report.leaks.verdict == Verdict::Leak {
            EXIT_LEAK
        } else {
            EXIT_CLEAN
        },
    )
}

/// A report `hunt --json` (or `report.json`) holds, of this layout: one from an older or
/// newer leakhunt is refused with a line saying so rather than misread.
pub fn read_report(path: &Path) -> Result<HuntReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let not_a_report = || {
        format!(
            "{}: not a leakhunt hunt report (hunt --json)",
            path.display()
        )
    };
    let value: serde_json::Value = serde_json::from_str(&text).with_context(not_a_report)?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        None if value.get("suspects").is_some() => bail!(
            "{}: a report from an older leakhunt (no schema_version); hunt again to compare",
            path.display()
        ),
        Some(v) if v != u64::from(SCHEMA_VERSION) => bail!(
            "{}: report layout {v}, this leakhunt reads layout {SCHEMA_VERSION}",
            path.display()
        ),
        _ => {}
    }
    serde_json::from_value(value).with_context(not_a_report)
}
