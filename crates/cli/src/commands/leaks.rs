//! `leakhunt leaks`: leak diagnosis over a ladder of snapshots.

use anyhow::Result;
use leakhunt_diagnosis::leaks::{diagnose, LeakOptions, Progress as LeakProgress, Verdict};
use leakhunt_printer::{terminal, Findings, Style};

use crate::cli::LeaksArgs;
use crate::output::{print_json, print_text};
use crate::progress::Progress;
use crate::reports::{self, Annotations};
use crate::{EXIT_CLEAN, EXIT_LEAK};

/// Said (in the text report) when suspects were found in snapshots without allocation
/// stacks.
const RECORD_STACKS_HINT: &str = "hint: these snapshots have no allocation stacks; to see where the leaked objects were created, take them from `node --track-heap-objects` or with DevTools' \"Allocation instrumentation on timeline\" (leakhunt hunt records them itself)";

pub fn run(args: &LeaksArgs) -> Result<u8> {
    let progress = Progress::new(!args.json);
    let on_progress = |p: LeakProgress| match p {
        LeakProgress::Reading { index, of, file } => progress.set_label(&format!(
            "Reading snapshot {}/{of}: {}",
            index + 1,
            file.display()
        )),
        LeakProgress::Analysing => progress.set_label("Finding what grows"),
    };
    let opts = LeakOptions {
        min_bytes_per_step: args.min_growth,
        max_suspects: args.top,
        ..LeakOptions::default()
    };
    let report = diagnose(&args.snapshots, &opts, &on_progress)?;
    progress.finish();
    if args.json {
        print_json(&report)?;
    } else {
        let mut text = terminal::leaks(&report, Style::for_stdout());
        if report.verdict == Verdict::Leak && !report.allocation_stacks_recorded {
            text.push_str(&format!("\n{RECORD_STACKS_HINT}\n"));
        }
        print_text(&text)?;
    }
    let annotations = if args.json {
        Annotations::Stderr
    } else {
        Annotations::Stdout
    };
    reports::write(&args.reports, &Findings::Leaks(&report), annotations)?;
    Ok(if report.verdict == Verdict::Leak {
        EXIT_LEAK
    } else {
        EXIT_CLEAN
    })
}
