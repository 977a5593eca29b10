//! `leakhunt compare`: what a fix changed, from two hunt reports.

use anyhow::Result;
use leakhunt_hunt::{compare, Change, ReportComparison};
use leakhunt_printer::{format_bytes, Style};

use crate::cli::CompareArgs;
use crate::commands::hunt::read_report;
use crate::output::{print_json, print_text};
use crate::{EXIT_CLEAN, EXIT_LEAK};

pub fn run(args: &CompareArgs) -> Result<u8> {
    let before = read_report(&args.before)?;
    let after = read_report(&args.after)?;
    let c = compare(&before, &after);
    if args.json {
        print_json(&c)?;
    } else {
        print_text(&render(&c, Style::for_stdout()))?;
    }
    Ok(if c.verdict_after == "leak" {
        EXIT_LEAK
    } else {
        EXIT_CLEAN
    })
}

fn per_iteration(v: f64) -> String {
    if v >= 0.0 {
        format!("+{}", format_bytes(v as u64))
    } else {
        format!("−{}", format_bytes((-v) as u64))
    }
}

pub fn render(c: &ReportComparison, style: Style) -> String {
    let mut t = format!(
        "\n{}\n  growth per iteration: {} → {}\n  verdict: {} → {}\n",
        style.bold("Before → after"),
        per_iteration(c.growth_before),
        style.bold(&per_iteration(c.growth_after)),
        c.verdict_before,
        if c.verdict_after == "clean" {
            style.green(&c.verdict_after)
        } else {
            style.red(&c.verdict_after)
        }
    );
    for (change, s) in &c.suspects {
        let (mark, word) = match change {
            Change::Gone => (style.green("✓"), "gone"),
            Change::Remaining => (style.red("✗"), "still there"),
            Change::New => (style.yellow("!"), "new"),
        };
        t.push_str(&format!(
            "  {mark} {word}: {} {} at {} (+{} per round before)\n",
            s.pattern,
            s.class,
            if s.place.is_empty() { "?" } else { &s.place },
            format_bytes(s.bytes_per_step as u64)
        ));
    }
    t
}
