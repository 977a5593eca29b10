//! Golden files of every renderer on the three fixtures. A change in the output shows as a
//! diff to review (`cargo insta review`, or `INSTA_UPDATE=always` and read `git diff`).

use std::path::Path;

use leakhunt_findings::LeakReport;
use leakhunt_printer::{github, html, json, markdown, sarif, terminal, Findings, Style};

use crate::fixtures::*;

/// Where the SARIF's `%SRCROOT%` points in the golden files: a fixed folder, so the files do
/// not depend on the checkout's place.
const SARIF_CWD: &str = "/work/app";

/// Every format of one report, the SARIF without the version that changes with releases.
fn all_formats(name: &str, f: &Findings) {
    insta::assert_snapshot!(format!("{name}.md"), markdown::render(f));
    insta::assert_snapshot!(format!("{name}.html"), html::render(f, &app_dir()));
    let sarif =
        sarif::render(f, Path::new(SARIF_CWD)).replace(env!("CARGO_PKG_VERSION"), "[version]");
    insta::assert_snapshot!(format!("{name}.sarif"), sarif);
    insta::assert_snapshot!(
        format!("{name}.github"),
        github::annotations(f, &app_dir(), None)
    );
}

#[test]
fn a_hunt_with_a_leak() {
    all_formats("leaky_hunt", &Findings::Hunt(&leaky_hunt()));
}

#[test]
fn a_clean_ladder() {
    all_formats("clean_ladder", &Findings::Leaks(&clean_ladder()));
}

#[test]
fn a_comparison() {
    let (before, after, comparison) = (leaky_hunt(), fixed_hunt(), comparison());
    all_formats(
        "comparison",
        &Findings::Compared {
            before: &before,
            after: &after,
            comparison: &comparison,
        },
    );
}

/// A report recorded from a real run: `leakhunt leaks --json` on the three snapshots that
/// `node crates/diagnosis/tests/fixtures/listener-leak.js DIR 3` writes, run from the
/// repository's root. Recorded rather than produced here, so the golden files do not move
/// with the Node version or the ids of one run.
const REAL_REPORT: &str = include_str!("real/listener-leak.leaks.json");

#[test]
fn a_real_report() {
    let report: LeakReport = serde_json::from_str(REAL_REPORT).unwrap();
    assert_eq!(
        json::render(&report).trim_end(),
        REAL_REPORT.trim_end(),
        "the JSON reads back as it was written"
    );
    insta::assert_snapshot!(
        "real_listener_leak.txt",
        terminal::leaks(&report, Style::plain())
    );
    all_formats("real_listener_leak", &Findings::Leaks(&report));
}

#[test]
fn annotations_point_into_the_repository() {
    // leakhunt ran in a service's folder inside the repository GitHub checked out.
    let hunt = leaky_hunt();
    let text = github::annotations(
        &Findings::Hunt(&hunt),
        Path::new("/repo/service"),
        Some(Path::new("/repo")),
    );
    assert!(
        text.starts_with("::error file=service/src/server.js,line=11,col=7,title="),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn html_fetches_nothing_and_runs_nothing() {
    let hunt = leaky_hunt();
    let page = html::render(&Findings::Hunt(&hunt), &app_dir());
    for needle in ["<script", "src=", "href=", "url(", "@import", "<link"] {
        assert!(!page.contains(needle), "the page has {needle}");
    }
    // The class name with markup comes out escaped, never as a tag.
    assert!(page.contains("Session&lt;&#39;a&gt;|*x*"));
    assert!(!page.contains("Session<'a>"));
}

/// Buffers kept outside the JS heap: every format says it is native memory and what the
/// snapshots show of it; a hunt whose external memory stays flat says nothing of the kind.
#[test]
fn native_memory_is_named_in_every_format() {
    let native = buffer_hunt();
    assert!(native.grows_outside_js_heap);
    let f = Findings::Hunt(&native);
    let texts = [
        markdown::render(&f),
        html::render(&f, &app_dir()),
        terminal::hunt(&native, Style::plain()),
    ];
    for text in &texts {
        assert!(
            text.contains("Native memory grows outside the JS heap"),
            "{text}"
        );
        assert!(text.contains("JSArrayBufferData"), "{text}");
        // What keeps them, with how many and how much.
        assert!(text.contains("uploads"), "{text}");
        assert!(text.contains("2,000 backing stores, 20.5 MB"), "{text}");
    }
    let json = serde_json::to_value(&native).unwrap();
    assert_eq!(json["native_memory"][0]["held_as"], "uploads");
    assert_eq!(json["native_memory"][0]["count"], 2000);
    let flat = markdown::render(&Findings::Hunt(&leaky_hunt()));
    assert!(!flat.contains("Native memory"), "{flat}");
}

/// Many holders (a Buffer kept by each of many objects) are not all listed: the note stays
/// a paragraph, the JSON report keeps every one.
#[test]
fn a_long_list_of_native_holders_is_cut_short() {
    let mut native = buffer_hunt();
    let one = native.leaks.native_memory[0].clone();
    native.leaks.native_memory = (0..1000u32)
        .map(|i| {
            let mut h = one.clone();
            h.holder.id = 10_000 + i;
            h
        })
        .collect();
    let text = terminal::hunt(&native, Style::plain());
    assert!(text.contains("and 995 more"), "{text}");
    assert!(text.len() < 20_000, "{} characters", text.len());
    let json = serde_json::to_value(&native).unwrap();
    assert_eq!(json["native_memory"].as_array().unwrap().len(), 1000);
}
