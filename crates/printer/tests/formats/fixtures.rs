//! Small handmade findings, built in code: a hunt with a leak (two suspects, one with a
//! path, a location and captured variables), a clean ladder, and a comparison.

use std::collections::BTreeMap;
use std::path::PathBuf;

use leakhunt_findings::*;

/// The folder the fixtures' relative paths start from: it holds `src/server.js`, whose
/// lines the HTML report shows.
pub fn app_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/formats/app")
}

fn at(file: &str, line: u32, column: u32, function: Option<&str>) -> SourceLocation {
    SourceLocation {
        file: file.into(),
        line,
        column,
        function: function.map(String::from),
    }
}

fn step(
    edge: &str,
    edge_type: EdgeKind,
    id: u32,
    class: &str,
    location: Option<SourceLocation>,
) -> PathStep {
    PathStep {
        edge: edge.into(),
        edge_type,
        holder_id: id,
        holder_class: class.into(),
        holder_name: None,
        location,
    }
}

fn snapshots(sizes: &[u64]) -> Vec<SnapshotInfo> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &s)| SnapshotInfo {
            file: format!("/tmp/ladder/s{}.heapsnapshot", i + 1),
            nodes: 40_000 + i as u64 * 2_000,
            total_size: s + 300_000,
            reachable_size: s,
        })
        .collect()
}

/// Listeners added to the bus at `src/server.js:11:7` and never removed.
pub fn listener() -> Suspect {
    Suspect {
        pattern: Pattern::EventListener,
        class: "(closure)".into(),
        count_per_step: 1000.0,
        count_unit: CountUnit::Objects,
        bytes_per_step: 660_400.0,
        retained_bytes: 1_980_000,
        count_by_snapshot: vec![1000, 2000, 3000],
        bytes_by_snapshot: vec![660_000, 1_320_000, 1_980_000],
        location: Some(at("src/server.js", 11, 7, None)),
        owner: Some(Owner {
            kind: OwnerKind::ModuleVariable,
            module: Some("src/server.js".into()),
            path: "bus".into(),
        }),
        captured: vec![Captured {
            name: "session".into(),
            bytes: 4_400,
        }],
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
                id: 114_433,
                class: "(closure)".into(),
                name: None,
                location: Some(at("src/server.js", 11, 18, None)),
            },
            steps: vec![
                step("425", EdgeKind::Element, 59_459, "Array", None),
                step("message", EdgeKind::Property, 90_595, "Object", None),
                step(
                    "_events",
                    EdgeKind::Property,
                    63_687,
                    "EventEmitter",
                    Some(at("node:events", 219, 22, Some("EventEmitter"))),
                ),
                step(
                    "bus",
                    EdgeKind::Context,
                    63_703,
                    "system / Context",
                    Some(at("src/server.js", 1, 1, None)),
                ),
            ],
        },
        allocation_stacks: Vec::new(),
        library_location: None,
    }
}

/// A Map that only gains entries, with markup in its class name to prove the escaping.
pub fn cache() -> Suspect {
    Suspect {
        pattern: Pattern::UnboundedCollection,
        class: "Session<'a>|*x*".into(),
        count_per_step: 1000.0,
        count_unit: CountUnit::Entries,
        bytes_per_step: 52_000.0,
        retained_bytes: 156_000,
        count_by_snapshot: vec![1000, 2000, 3000],
        bytes_by_snapshot: vec![52_000, 104_000, 156_000],
        location: Some(at("src/server.js", 14, 9, Some("startSession"))),
        owner: Some(Owner {
            kind: OwnerKind::ModuleVariable,
            module: Some("src/server.js".into()),
            path: "cache".into(),
        }),
        captured: vec![],
        one_entry_per_new_key: false,
        explanation: Explanation::UnboundedCollection {
            collection_class: "Map".into(),
            value_class: Some("Object".into()),
            entries_now: None,
        },
        path: RetainerPath {
            object: HeapObject {
                id: 120_001,
                class: "Object".into(),
                name: None,
                location: None,
            },
            steps: (0..5)
                .map(|i| step("next", EdgeKind::Property, 70_000 + i, "Entry", None))
                .chain([step(
                    "cache",
                    EdgeKind::Context,
                    63_703,
                    "system / Context",
                    None,
                )])
                .collect(),
        },
        allocation_stacks: Vec::new(),
        library_location: None,
    }
}

fn round(iterations: u64) -> RoundLoad {
    RoundLoad {
        iterations,
        requests: iterations * 2,
        failed: 0,
        seconds: 0.4,
        requests_per_second: iterations as f64 * 5.0,
        p50_ms: 1.2,
        p99_ms: 4.5,
        errors: BTreeMap::new(),
        timed_out: 0,
        timeouts: Vec::new(),
    }
}

fn hunt_with(suspects: Vec<Suspect>, heap: Vec<u64>) -> HuntReport {
    // `process.memoryUsage()` beside: a steady 1.2 MB of external memory, RSS 40 MB over the heap.
    let memory = heap
        .iter()
        .map(|&h| MemoryAfterGc {
            heap_used_bytes: h,
            external_bytes: 1_200_000,
            array_buffers_bytes: 40_000,
            rss_bytes: 40_000_000 + h,
            code_bytes: 0,
        })
        .collect();
    let growth = (heap[heap.len() - 1] as f64 - heap[0] as f64) / 2000.0;
    HuntReport {
        leaks: LeakReport::new(snapshots(&heap), suspects),
        runtime: "node v20.20.2".into(),
        command: Some("node src/server.js".into()),
        scenario: ScenarioInfo {
            source: "scenario.toml".into(),
            steps: vec!["POST /login".into(), "GET /me".into()],
            iterations_per_round: 1000,
            concurrency: 8,
        },
        rounds: 2,
        iterations: 2000,
        heap_after_gc_bytes: heap,
        growth_bytes_per_iteration: growth,
        load: vec![round(1000), round(1000), round(1000)],
        growth_gate: None,
        out_dir: None,
        memory_after_gc: vec![],
        memory_growth_bytes_per_iteration: None,
        rss_growth_bytes_per_iteration: None,
        grows_outside_js_heap: false,
    }
    .with_memory(memory)
}

/// A hunt that found both suspects, went past its growth limit and saw a few requests fail.
pub fn leaky_hunt() -> HuntReport {
    let mut h = hunt_with(
        vec![listener(), cache()],
        vec![5_500_000, 6_400_000, 7_300_000],
    );
    h.apply_growth_gate(2000);
    h.load[1].failed = 3;
    h.load[1]
        .errors
        .insert("connection reset by peer".into(), 3);
    h
}

/// The same service after a fix of the listener: the cache remains.
pub fn fixed_hunt() -> HuntReport {
    hunt_with(vec![cache()], vec![5_400_000, 5_460_000, 5_520_000])
}

/// A ladder where nothing grows.
pub fn clean_ladder() -> LeakReport {
    LeakReport::new(snapshots(&[3_800_000, 3_810_000, 3_805_000]), vec![])
}

/// `leaky_hunt` → `fixed_hunt`.
pub fn comparison() -> Comparison {
    let compared = |change, s: &Suspect| ComparedSuspect {
        change,
        pattern: s.pattern,
        class: s.class.clone(),
        location: s.location.clone(),
        owner: s.owner.clone(),
        bytes_per_step: s.bytes_per_step,
    };
    Comparison {
        schema_version: SCHEMA_VERSION,
        growth_before: leaky_hunt().growth_bytes_per_iteration,
        growth_after: fixed_hunt().growth_bytes_per_iteration,
        growth_figure: Default::default(),
        verdict_before: Verdict::Leak,
        verdict_after: Verdict::Leak,
        suspects: vec![
            compared(Change::Gone, &listener()),
            compared(Change::Remaining, &cache()),
        ],
    }
}

/// A hunt of a service keeping a 10 kB Buffer per iteration: external memory grows by 20 MB,
/// the JS heap by 0.4 MB.
pub fn buffer_hunt() -> HuntReport {
    let heap = vec![5_000_000, 5_200_000, 5_400_000];
    let memory = heap
        .iter()
        .enumerate()
        .map(|(i, &h)| MemoryAfterGc {
            heap_used_bytes: h,
            external_bytes: 1_000_000 + i as u64 * 10_240_000,
            array_buffers_bytes: 40_000 + i as u64 * 10_240_000,
            rss_bytes: 60_000_000 + i as u64 * 11_000_000,
            code_bytes: 0,
        })
        .collect();
    let mut hunt = hunt_with(vec![], heap).with_memory(memory);
    // The last snapshot shows the Buffers' bytes, kept by the `uploads` array.
    hunt.leaks.native_memory = vec![NativeHolder {
        holder: HeapObject {
            id: 4711,
            class: "Array".into(),
            name: None,
            location: None,
        },
        held_as: Some("uploads".into()),
        count: 2000,
        bytes: 20_480_000,
    }];
    hunt
}
