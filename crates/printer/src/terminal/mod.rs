//! The terminal renderer: what the commands print for people, with color when the terminal
//! takes it ([`crate::Style`]). One file per report; the words come from [`crate::prose`], the
//! path lines from [`crate::path`], so every format says the same.

mod compare;
mod diff;
mod hunt;
mod leaks;
mod retainers;
mod summary;

pub use compare::comparison;
pub use diff::render as diff;
pub use hunt::hunt;
pub use leaks::leaks;
pub use retainers::retainers;
pub use summary::render as summary;

use leakhunt_findings::RetainerPath;

use crate::path::{line_text, lines};

/// A path, one reference a line (`←` before each holder), each line after `indent`.
fn path_block(path: &RetainerPath, indent: &str) -> String {
    let mut out = String::new();
    for (i, line) in lines(path).iter().enumerate() {
        let arrow = if i == 0 { "  " } else { "← " };
        out.push_str(&format!("{indent}{arrow}{}\n", line_text(line)));
    }
    out
}

/// A signed byte amount per iteration: `+880 B`, `−1.2 kB`.
fn signed_bytes(v: f64) -> String {
    use crate::format_bytes;
    if v >= 0.0 {
        format!("+{}", format_bytes(v as u64))
    } else {
        format!("−{}", format_bytes((-v) as u64))
    }
}

#[cfg(test)]
mod tests {
    use leakhunt_findings::{
        Change, ComparedSuspect, Comparison, CountUnit, EdgeKind, Explanation, HeapObject,
        LeakReport, Owner, OwnerKind, PathStep, Pattern, RetainerPath, SnapshotInfo,
        SourceLocation, Suspect, Verdict, SCHEMA_VERSION,
    };

    use super::*;
    use crate::Style;

    fn step(edge: &str, edge_type: EdgeKind, id: u32, class: &str) -> PathStep {
        PathStep {
            edge: edge.into(),
            edge_type,
            holder_id: id,
            holder_class: class.into(),
            holder_name: None,
            location: None,
        }
    }

    /// A listener held in an emitter's list, the emitter in a module variable, and a timer
    /// chain of `links` hops above it.
    fn report(links: u32) -> LeakReport {
        let mut steps = vec![
            step("0", EdgeKind::Element, 10, "Array"),
            step("message", EdgeKind::Property, 11, "Object"),
            PathStep {
                location: Some(SourceLocation {
                    file: "node:events".into(),
                    line: 219,
                    column: 22,
                    function: Some("EventEmitter".into()),
                }),
                ..step("_events", EdgeKind::Property, 12, "EventEmitter")
            },
        ];
        steps.extend((0..links).map(|i| step("_idleNext", EdgeKind::Property, 100 + i, "Timeout")));
        steps.push(step("bus", EdgeKind::Context, 13, "system / Context"));
        let suspect = Suspect {
            pattern: Pattern::EventListener,
            class: "(closure)".into(),
            count_per_step: 200.0,
            count_unit: CountUnit::Objects,
            bytes_per_step: 592_000.0,
            retained_bytes: 1_800_000,
            count_by_snapshot: vec![200, 400, 600],
            bytes_by_snapshot: vec![600_000, 1_200_000, 1_800_000],
            location: Some(SourceLocation {
                file: "src/bus.ts".into(),
                line: 39,
                column: 38,
                function: None,
            }),
            owner: Some(Owner {
                kind: OwnerKind::ModuleVariable,
                module: Some("src/bus.ts".into()),
                path: "bus".into(),
            }),
            captured: Vec::new(),
            one_entry_per_new_key: false,
            explanation: Explanation::EventListener {
                emitter_class: "EventEmitter".into(),
                event: Some("message".into()),
                event_names_grow: false,
                handler: None,
                removal: None,
            },
            path: RetainerPath {
                object: HeapObject {
                    id: 9,
                    class: "(closure)".into(),
                    name: None,
                    location: None,
                },
                steps,
            },
            allocation_stacks: Vec::new(),
            library_location: None,
        };
        let snapshot = |size| SnapshotInfo {
            file: "s.heapsnapshot".into(),
            nodes: 10,
            total_size: size,
            reachable_size: size,
        };
        LeakReport::new(
            vec![
                snapshot(3_800_000),
                snapshot(4_400_000),
                snapshot(5_000_000),
            ],
            vec![suspect],
        )
    }

    #[test]
    fn a_suspect_reads_as_before_with_its_place_path_words_and_fix() {
        let text = leaks(&report(0), Style::plain());
        for expected in [
            "Heap over 3 snapshots: 3.8 MB → 4.4 MB → 5.0 MB\n",
            "Leak: 1 suspect grows at every step.",
            "#1 event-listener  (closure)  +200 objects, +592 kB per step (retains 1.8 MB now)",
            "   at src/bus.ts:39:38\n",
            "   held by module src/bus.ts > bus\n",
            "       (closure) (anonymous) @9\n     ← [0] in Array @10\n",
            "     ← ._events in EventEmitter @12  (node:events:219:22)\n",
            "     ← bus (closure variable) in system / Context @13\n     ← (GC roots)\n",
            "listeners for 'message' to the EventEmitter `bus`",
            "   Fix: Remove the listener",
        ] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
    }

    #[test]
    fn notes_follow_the_suspects() {
        let mut r = report(0);
        r.notes = vec!["the source map of dist/a.js has no mappings".into()];
        let text = leaks(&r, Style::plain());
        assert!(
            text.ends_with("\nnote: the source map of dist/a.js has no mappings\n"),
            "{text}"
        );
        let md = crate::markdown::render(&crate::Findings::Leaks(&r));
        assert!(
            md.contains("> Note: the source map of dist/a.js has no mappings\n"),
            "{md}"
        );
    }

    #[test]
    fn long_chains_are_folded_into_one_line() {
        let text = leaks(&report(300), Style::plain());
        assert!(
            text.contains("     ← … 300 × ._idleNext in Timeout …\n"),
            "{text}"
        );
        assert!(text.lines().count() < 30, "{text}");
    }

    #[test]
    fn a_clean_ladder_says_so() {
        let mut r = report(0);
        r.suspects.clear();
        r.verdict = Verdict::Clean;
        assert!(leaks(&r, Style::plain()).ends_with("\nNo leak: nothing grows at every step.\n"));
    }

    #[test]
    fn a_comparison_names_each_suspect_by_its_file_or_owner() {
        let c = Comparison {
            schema_version: SCHEMA_VERSION,
            growth_before: 880.0,
            growth_after: -3.0,
            growth_figure: Default::default(),
            verdict_before: Verdict::Leak,
            verdict_after: Verdict::Clean,
            suspects: vec![ComparedSuspect {
                change: Change::Gone,
                pattern: Pattern::UnboundedCollection,
                class: "UserProfile".into(),
                location: None,
                owner: Some(Owner {
                    kind: OwnerKind::Property,
                    module: None,
                    path: "Cache.all".into(),
                }),
                bytes_per_step: 2_000.0,
            }],
        };
        let text = comparison(&c, Style::plain());
        assert!(
            text.contains("growth per iteration (JS heap): +880 B → −3 B"),
            "{text}"
        );
        assert!(text.contains("verdict: leak → clean"), "{text}");
        assert!(
            text.contains("✓ gone: unbounded-collection UserProfile at Cache.all (+2.0 kB"),
            "{text}"
        );
    }

    #[test]
    fn json_is_the_findings_with_their_schema_version() {
        let v: serde_json::Value = serde_json::from_str(&crate::json::render(&report(0))).unwrap();
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        assert_eq!(v["suspects"][0]["explanation"]["kind"], "event-listener");
        assert_eq!(
            v["suspects"][0]["path"]["steps"][2]["edge_type"],
            "property"
        );
        let back: LeakReport = serde_json::from_value(v).unwrap();
        assert_eq!(back.suspects[0].path, report(0).suspects[0].path);
    }
}
