//! What a comparison keeps of a snapshot once its graph is dropped: per object (of non-zero
//! size, as DevTools counts them) its id, class and folded self size, sorted by id; and per
//! class its retained size. 16 bytes an object (and 8 per sampled fingerprint), so two large snapshots can be compared
//! without holding both graphs.

use std::collections::HashMap;

use leakhunt_engine::{Analysis, NodeIndex};

use crate::identity::Fingerprints;

pub struct SnapshotObjects {
    /// Class names; `classes[i]` for class index `i`.
    pub class_names: Vec<String>,
    /// (id, class index, self size), sorted by id.
    pub objects: Vec<(u32, u32, u64)>,
    /// Per class index: retained size of its outermost instances.
    pub class_retained: Vec<u64>,
    pub total_size: u64,
    /// What tells this process's objects from another's (see [`Fingerprints`]).
    pub fingerprints: Fingerprints,
}

impl SnapshotObjects {
    pub fn from_analysis(a: &Analysis) -> SnapshotObjects {
        let g = &a.graph;
        let class_names = (0..a.classes.len() as u32)
            .map(|c| a.classes.name(c).to_string())
            .collect();
        let mut objects: Vec<(u32, u32, u64)> = (0..g.node_count() as NodeIndex)
            .filter(|&n| g.self_size(n) > 0)
            .map(|n| (g.node_id(n), a.classes.class_of(g, n), g.self_size(n)))
            .collect();
        objects.sort_unstable_by_key(|o| o.0);
        SnapshotObjects {
            class_names,
            objects,
            class_retained: a.class_retained.clone(),
            total_size: g.total_self_size() + g.extra_native_bytes(),
            fingerprints: Fingerprints::of(g),
        }
    }

    pub fn class_index(&self) -> HashMap<&str, u32> {
        self.class_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i as u32))
            .collect()
    }
}
