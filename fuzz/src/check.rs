//! One fuzz input: read it as a snapshot; if the reader accepts it, run every analysis a
//! command runs on it: the engine's (summary, dominators, distances, retainer paths,
//! source locations, objects and paths as the reports show them), the diff against an earlier snapshot, and the leak diagnosis
//! over a ladder of three. The earlier snapshots are derived from the input by dropping a
//! hash-chosen half and quarter of its nodes, so the ladder grows at every step and the
//! diagnosis has suspects to explain. Nothing may panic, whatever the graph.
//!
//! Most byte strings are not snapshots, and the reader refuses them early. So that the
//! analyses meet many odd graphs too, an input starting with `G` describes a graph instead
//! (node types, sizes, ids and edges taken from its bytes), which the writer turns into a
//! snapshot that goes the same way.

use leakhunt_diagnosis::leaks::{diagnose_measured, LeakOptions, Measured};
use leakhunt_diagnosis::source_map::SourceMaps;
use leakhunt_diagnosis::{compare, Locator, SnapshotObjects};
use leakhunt_engine::reader::read_bytes;
use leakhunt_engine::writer::snapshot_bytes;
use leakhunt_engine::{
    Analysis, AnalysisOptions, EdgeType, GraphBuilder, HeapGraph, NodeIndex, NodeType,
};

pub fn check(data: &[u8]) {
    match data.split_first() {
        Some((b'G', rest)) => check_snapshot(&snapshot_bytes(&graph_from(rest))),
        _ => check_snapshot(data),
    }
}

fn check_snapshot(data: &[u8]) {
    let Ok(graph) = read_bytes(data.to_vec()) else {
        return;
    };
    let earlier = [subgraph(&graph, 2), subgraph(&graph, 1)];
    let last = Analysis::new(
        graph,
        &AnalysisOptions {
            retainer_paths: true,
            on_phase: None,
        },
    );
    engine_views(&last);

    let first = Analysis::new(subgraph(&last.graph, 2), &AnalysisOptions::default());
    let _ = compare(
        &SnapshotObjects::from_analysis(&first),
        &SnapshotObjects::from_analysis(&last),
    );

    let [a, b] = earlier;
    let facts = vec![
        Measured::new("s1", a).into_facts(),
        Measured::new("s2", b).into_facts(),
    ];
    let last = Measured::new("s3", read_bytes(data.to_vec()).expect("read once already"));
    let opts = LeakOptions {
        min_bytes_per_step: 0,
        ..LeakOptions::default()
    };
    let _ = diagnose_measured(facts, last, &opts, &mut SourceMaps::new());
}

/// What `summary` and `retainers` show, for a sample of nodes.
fn engine_views(a: &Analysis) {
    let g = &a.graph;
    let summary = a.summary();
    std::hint::black_box(&summary);
    let locator = Locator::new(a, SourceMaps::new(), None);
    let n = g.node_count() as NodeIndex;
    let step = (n / 16).max(1);
    for node in (0..n).step_by(step as usize) {
        // The object, its place, distance and up to three paths, each step labelled.
        std::hint::black_box(locator.retained_object(node, 3));
    }
    for class in summary.classes.iter().take(8) {
        let _ = a.classes.find(&class.class);
    }
}

/// A graph described by bytes: a node count, then for each node its type, name, size and
/// id, then edges (source, type, target, name) until the bytes run out. Ids may repeat and
/// edges may point anywhere, root included: whatever a file could hold.
fn graph_from(bytes: &[u8]) -> HeapGraph {
    let mut it = bytes.iter().copied();
    let mut next = move || it.next();
    let mut b = GraphBuilder::new();
    let mut nodes = 1; // the builder's root
    for _ in 0..1 + next().unwrap_or(0) % 48 {
        let (Some(t), Some(name), Some(size), Some(id)) = (next(), next(), next(), next()) else {
            break;
        };
        let t = NodeType::ALL[t as usize % NodeType::ALL.len()];
        // Up to the reader's bound on a heap (2^53 bytes in all).
        let size = match size {
            250..=255 => 1 << (size - 210),
            s => s as u64 * 8,
        };
        let name = match name % 12 {
            10 => format!(
                "{} / part of key (C @3) -> value (C @5) pair in WeakMap (table @7)",
                name
            ),
            11 => "(GC roots)".to_string(),
            k => format!("C{k}"),
        };
        b.node_with_id(t, &name, size, id as u32 * 2 + 1);
        nodes += 1;
    }
    while let (Some(from), Some(t), Some(to), Some(name)) = (next(), next(), next(), next()) {
        let t = EdgeType::ALL[t as usize % EdgeType::ALL.len()];
        let name = match t.name_is_index() {
            true => (name as u32 * 1_000_003 % 700_000_000).to_string(),
            false => format!("p{}", name % 6),
        };
        b.edge(from as u32 % nodes, t, &name, to as u32 % nodes);
    }
    b.build()
}

/// The graph without the nodes whose id hashes to a quarter below `quarters` (0–4): an
/// earlier snapshot of the same process, in which those objects did not exist yet.
/// Node 0 stays the root; edges to dropped nodes go with them.
fn subgraph(g: &HeapGraph, quarters: u64) -> HeapGraph {
    let keep = |n: NodeIndex| {
        n == HeapGraph::ROOT
            || (g.node_id(n) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 62 >= quarters
    };
    let mut b = GraphBuilder::new();
    let mut index = vec![None; g.node_count()];
    index[HeapGraph::ROOT as usize] = Some(b.root());
    for n in 1..g.node_count() as NodeIndex {
        if keep(n) {
            let new = b.node_with_id(g.node_type(n), g.node_name(n), g.self_size(n), g.node_id(n));
            index[n as usize] = Some(new);
        }
    }
    for n in 0..g.node_count() as NodeIndex {
        let Some(from) = index[n as usize] else {
            continue;
        };
        for e in g.edges_of(n) {
            if let Some(to) = index[g.edge_target(e) as usize] {
                let t = g.edge_type(e);
                let name = match g.edge_name(e) {
                    Some(s) => s.to_string(),
                    None => g.edge_name_or_index(e).to_string(),
                };
                b.edge(from, t, &name, to);
            }
        }
    }
    b.build()
}
