//! Allocation traces: where V8 says each object was allocated, when allocation tracking was
//! on while it was (`--track-heap-objects`, `HeapProfiler.startTrackingHeapObjects` with
//! `trackAllocations`, DevTools' allocation instrumentation).
//!
//! A snapshot then holds a tree of call stacks (`trace_tree`, each node a function called from
//! its parent), the functions (`trace_function_infos`) and, per object, the tree node it was
//! allocated under (`trace_node_id`). Stored flat: three `u32` per tree node and four per
//! function; the per-object ids live in the graph, and only when some object has one.

/// One function of `trace_function_infos`. Line and column are 1-based; 0 means unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceFunction {
    /// Index into the snapshot's strings.
    pub name: u32,
    /// Index into the snapshot's strings: the script's URL or path, empty for none.
    pub script_name: u32,
    pub line: u32,
    pub column: u32,
}

/// The call-stack tree and its functions.
#[derive(Clone, Debug, Default)]
pub struct AllocationTraces {
    /// Per tree node, in file order: its id, its parent's index (`NO_PARENT` for the root)
    /// and its function (an index into `functions`).
    pub(crate) ids: Vec<u32>,
    pub(crate) parents: Vec<u32>,
    pub(crate) function_of: Vec<u32>,
    pub(crate) functions: Vec<TraceFunction>,
    /// `(id, tree node index)` sorted by id, to find a node from an object's trace id.
    by_id: Vec<(u32, u32)>,
}

pub(crate) const NO_PARENT: u32 = u32::MAX;

impl AllocationTraces {
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn functions(&self) -> &[TraceFunction] {
        &self.functions
    }

    pub fn tree_len(&self) -> usize {
        self.ids.len()
    }

    pub(crate) fn push_node(&mut self, id: u32, parent: u32, function: u32) -> u32 {
        let index = self.ids.len() as u32;
        self.ids.push(id);
        self.parents.push(parent);
        self.function_of.push(function);
        index
    }

    /// Builds the id index once the tree is read; `false` when an id appears twice.
    pub(crate) fn finish(&mut self) -> bool {
        self.by_id = self
            .ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32))
            .collect();
        self.by_id.sort_unstable();
        self.by_id.windows(2).all(|w| w[0].0 != w[1].0)
    }

    /// The call stack an object with trace id `trace_id` was allocated under, innermost
    /// frame first (the function that allocated it, then its callers); the tree's root, which
    /// stands for no function, is left out. Empty for an unknown id or 0.
    pub fn stack(&self, trace_id: u32) -> Vec<TraceFunction> {
        let mut out = Vec::new();
        let Ok(k) = self.by_id.binary_search_by_key(&trace_id, |&(id, _)| id) else {
            return out;
        };
        let mut at = self.by_id[k].1;
        // The tree is finite and parents were read before their children, so every parent
        // index is smaller than its child's: the walk ends.
        while at != NO_PARENT {
            let parent = self.parents[at as usize];
            if parent == NO_PARENT {
                break; // the root: "(root)", no function
            }
            out.push(self.functions[self.function_of[at as usize] as usize]);
            at = parent;
        }
        out
    }

    /// Bytes these arrays take in memory.
    pub fn heap_bytes(&self) -> usize {
        4 * (self.ids.capacity() + self.parents.capacity() + self.function_of.capacity())
            + 8 * self.by_id.capacity()
            + std::mem::size_of::<TraceFunction>() * self.functions.capacity()
    }
}
