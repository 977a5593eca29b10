//! `leakhunt compare`: what a fix changed, from two hunt reports.

use anyhow::Result;
use leakhunt_findings::Verdict;
use leakhunt_hunt::compare;
use leakhunt_printer::{terminal, Findings, Style};

use crate::cli::CompareArgs;
use crate::commands::hunt::read_report;
use crate::output::{print_json, print_text};
use crate::reports::{self, Annotations};
use crate::{EXIT_CLEAN, EXIT_LEAK};

pub fn run(args: &CompareArgs) -> Result<u8> {
    let before = read_report(&args.before)?;
    let after = read_report(&args.after)?;
    let c = compare(&before, &after);
    if args.json {
        print_json(&c)?;
    } else {
        print_text(&terminal::comparison(&c, Style::for_stdout()))?;
    }
    let findings = Findings::Compared {
        before: &before,
        after: &after,
        comparison: &c,
    };
    let annotations = if args.json {
        Annotations::Stderr
    } else {
        Annotations::Stdout
    };
    reports::write(&args.reports, &findings, annotations)?;
    Ok(if c.verdict_after == Verdict::Leak {
        EXIT_LEAK
    } else {
        EXIT_CLEAN
    })
}
