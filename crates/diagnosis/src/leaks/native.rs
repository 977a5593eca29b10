//! Memory outside the JS heap that the snapshot does show: ArrayBuffer backing stores.
//!
//! V8 shows the bytes behind every ArrayBuffer (and so behind every Buffer and typed array)
//! as a `system / JSArrayBufferData` node of the size of the bytes, held by its ArrayBuffer
//! through `backing_store`. Those new since the first snapshot are counted by what keeps
//! their ArrayBuffer: the nearest object above them in the dominator tree that was already
//! there in the first snapshot and is none of the views (Buffer, typed arrays, DataView) or
//! buffers themselves, past internal storage: the array, Map or object a program keeps its
//! Buffers in.

use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{HeapGraph, NodeIndex, NodeType};
use leakhunt_findings::{EdgeKind, NativeHolder};

use super::facts::Facts;
use crate::hash::FastMap;
use crate::locator::Locator;

/// V8's name for the bytes of an ArrayBuffer.
const BACKING_STORE: &str = "system / JSArrayBufferData";

/// The objects V8 and Node put over a backing store: a holder of one of these is what keeps
/// the bytes.
const VIEWS: [&str; 17] = [
    "ArrayBuffer",
    "SharedArrayBuffer",
    "Buffer",
    "FastBuffer",
    "DataView",
    "Uint8Array",
    "Uint8ClampedArray",
    "Int8Array",
    "Uint16Array",
    "Int16Array",
    "Uint32Array",
    "Int32Array",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
];

/// Holders of backing stores new since `first`, largest first; those holding less than
/// `min_bytes_per_step` a step (over `steps`) are left out.
pub fn holders(
    locator: &Locator,
    first: &Facts,
    steps: usize,
    min_bytes_per_step: u64,
) -> Vec<NativeHolder> {
    let a = locator.analysis();
    let g = &a.graph;
    let idom = &a.dominators.idom;
    let mut by_holder: FastMap<NodeIndex, (u64, u64)> = FastMap::default();
    for n in 0..g.node_count() as NodeIndex {
        if g.node_type(n) != NodeType::Native
            || g.node_name(n) != BACKING_STORE
            || !a.dominators.is_reachable(n)
        {
            continue;
        }
        // New or not by its ArrayBuffer's id: V8 numbers the native nodes afresh in every
        // snapshot (all 600 stores of a hunt read as new by their own ids), the objects of
        // the JS heap it keeps numbered.
        let array_buffer = idom[n as usize];
        if array_buffer == HeapGraph::ROOT || first.has_id(g.node_id(array_buffer)) {
            continue;
        }
        // Up to what was there before the load: a record made per request around each
        // Buffer (`{ name, data }`) is part of what leaks, not what keeps it, and counting by
        // it would list every Buffer on its own.
        let mut h = array_buffer;
        while h != HeapGraph::ROOT
            && (is_storage(g, h)
                || VIEWS.contains(&locator.class_of(h))
                || !first.has_id(g.node_id(h)))
        {
            h = idom[h as usize];
        }
        if h == HeapGraph::ROOT {
            continue;
        }
        let e = by_holder.entry(h).or_default();
        e.0 += 1;
        e.1 += g.self_size(n);
    }
    let least = min_bytes_per_step.saturating_mul(steps.max(1) as u64);
    let mut holders: Vec<NativeHolder> = by_holder
        .into_iter()
        .filter(|&(_, (_, bytes))| bytes >= least)
        .map(|(h, (count, bytes))| NativeHolder {
            holder: locator.object(h),
            held_as: held_as(locator, h),
            count,
            bytes,
        })
        .collect();
    holders.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.holder.id.cmp(&b.holder.id)));
    holders
}

/// The variable or property `h` is held under, on its shortest path from the roots.
fn held_as(locator: &Locator, h: NodeIndex) -> Option<String> {
    let path = locator.shortest_path(h);
    let step = path.steps.first()?;
    matches!(step.edge_type, EdgeKind::Context | EdgeKind::Property).then(|| step.edge.clone())
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{Analysis, AnalysisOptions, EdgeType, GraphBuilder};

    use super::*;
    use crate::leaks::anchors::AnchoredKeys;
    use crate::source_map::SourceMaps;

    /// A module scope whose `uploads` array holds `kept` records of a Buffer, each over 10 kB
    /// of bytes.
    /// The Buffers and ArrayBuffers keep their ids from one snapshot to the next; the
    /// backing stores are numbered from `store_ids` on, afresh in every snapshot, as V8 does.
    fn heap(kept: u32, store_ids: u32) -> Analysis {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        let scope = b.node(NodeType::Object, "system / Context", 40);
        b.edge(global, EdgeType::Property, "scope", scope);
        let uploads = b.node(NodeType::Object, "Array", 32);
        b.edge(scope, EdgeType::Context, "uploads", uploads);
        let store = b.node(NodeType::Array, "(object elements)", 64);
        b.edge(uploads, EdgeType::Internal, "elements", store);
        for i in 0..kept {
            // Each Buffer in a record of its own, made per request.
            let record = b.node_with_id(NodeType::Object, "Object", 24, 1000 + 4 * i);
            let buffer = b.node_with_id(NodeType::Object, "Buffer", 96, 1001 + 4 * i);
            let array_buffer = b.node_with_id(NodeType::Object, "ArrayBuffer", 80, 1003 + 4 * i);
            let bytes = b.node_with_id(NodeType::Native, BACKING_STORE, 10_240, store_ids + 2 * i);
            b.edge(store, EdgeType::Element, &i.to_string(), record);
            b.edge(record, EdgeType::Property, "data", buffer);
            b.edge(buffer, EdgeType::Internal, "buffer", array_buffer);
            b.edge(array_buffer, EdgeType::Internal, "backing_store", bytes);
        }
        let paths = AnalysisOptions {
            retainer_paths: true,
            on_phase: None,
        };
        Analysis::new(b.build(), &paths)
    }

    /// The holders in a last snapshot of `kept` Buffers, the first having had 100.
    fn holders_of(kept: u32) -> Vec<NativeHolder> {
        let first_heap = heap(100, 50_001);
        let first = Facts::measure(
            "s1".into(),
            &first_heap,
            &AnchoredKeys::compute(&first_heap),
        );
        let last = heap(kept, 90_001);
        let locator = Locator::new(&last, SourceMaps::default(), None);
        holders(&locator, &first, 2, 1024)
    }

    #[test]
    fn new_backing_stores_are_counted_by_the_collection_that_keeps_their_buffers() {
        let h = holders_of(300);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].holder.class, "Array");
        assert_eq!(h[0].held_as.as_deref(), Some("uploads"));
        // The 100 kept since the first snapshot are not new, whatever their stores' ids.
        assert_eq!((h[0].count, h[0].bytes), (200, 200 * 10_240));
    }

    #[test]
    fn nothing_when_no_backing_store_is_kept() {
        assert!(holders_of(100).is_empty());
    }
}
