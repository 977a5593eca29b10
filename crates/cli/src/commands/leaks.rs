//! `leakhunt leaks`: leak diagnosis over a ladder of snapshots.

use anyhow::Result;
use leakhunt_diagnosis::leaks::{
    diagnose, LeakOptions, LeakReport, Progress as LeakProgress, Verdict,
};
use leakhunt_printer::{format_bytes, Style};

use crate::cli::LeaksArgs;
use crate::output::{print_json, print_text};
use crate::progress::Progress;
use crate::{EXIT_CLEAN, EXIT_LEAK};

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
        print_text(&render(&report, Style::for_stdout()))?;
    }
    Ok(if report.verdict == Verdict::Leak {
        EXIT_LEAK
    } else {
        EXIT_CLEAN
    })
}

pub fn render(r: &LeakReport, style: Style) -> String {
    let mut t = String::new();
    let sizes: Vec<String> = r
        .snapshots
        .iter()
        .map(|s| format_bytes(s.reachable_size))
        .collect();
    t.push_str(&format!(
        "Heap over {} snapshots: {}\n",
        r.snapshots.len(),
        sizes.join(" → ")
    ));
    if r.verdict == Verdict::Clean {
        t.push_str(&format!(
            "\n{} nothing grows at every step.\n",
            style.green(&style.bold("No leak:"))
        ));
        return t;
    }
    t.push_str(&format!(
        "\n{} {} suspect{} grow{} at every step.\n",
        style.red(&style.bold("Leak:")),
        r.suspects.len(),
        if r.suspects.len() == 1 { "" } else { "s" },
        if r.suspects.len() == 1 { "s" } else { "" }
    ));
    for (i, s) in r.suspects.iter().enumerate() {
        t.push_str(&format!(
            "\n{} {}  {}  +{:.0} {}, +{} per step (retains {} now)\n",
            style.bold(&format!("#{}", i + 1)),
            style.yellow(s.pattern.name()),
            style.bold(&s.class),
            s.count_per_step,
            s.count_unit,
            format_bytes(s.bytes_per_step as u64),
            format_bytes(s.retained_bytes)
        ));
        if let Some(l) = &s.location {
            let f = l
                .function
                .as_deref()
                .map(|f| format!(" in {f}"))
                .unwrap_or_default();
            t.push_str(&format!(
                "   at {}{f}\n",
                style.cyan(&format!("{}:{}:{}", l.file, l.line, l.column))
            ));
        }
        if let Some(c) = &s.collection {
            t.push_str(&format!("   held by {c}\n"));
        }
        t.push_str("   path:\n");
        for (j, line) in s.retainer_path.iter().enumerate() {
            t.push_str(&format!(
                "     {}{line}\n",
                if j == 0 { "  " } else { "← " }
            ));
        }
        t.push_str(&format!("   {}\n", s.explanation));
        t.push_str(&format!("   {} {}\n", style.bold("Fix:"), s.fix));
    }
    t
}
