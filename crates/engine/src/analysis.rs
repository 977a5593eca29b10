//! One snapshot, fully analysed: the graph with DevTools-style folded sizes, its dominator
//! tree, distances and classes. This is the entry point most callers want.

use crate::classes::Classes;
use crate::distances::Distances;
use crate::dominators::{self, DominatorTree};
use crate::fold::fold_storage_into_owners;
use crate::graph::HeapGraph;
use crate::roots::{essential_edges, page_objects, user_roots};
use crate::summary::{summarize, Summary};
use crate::weakmap::EphemeronNames;

/// Steps of [`Analysis::new`], for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Folding,
    Dominators,
    Distances,
    Classes,
}

impl Phase {
    pub fn describe(self) -> &'static str {
        match self {
            Phase::Folding => "folding internal storage",
            Phase::Dominators => "computing dominators and retained sizes",
            Phase::Distances => "computing distances",
            Phase::Classes => "grouping classes",
        }
    }
}

#[derive(Default)]
pub struct AnalysisOptions<'a> {
    /// Also record each node's shortest retainer edge (for retainer paths; 4 bytes a node).
    pub retainer_paths: bool,
    pub on_phase: Option<&'a dyn Fn(Phase)>,
}

pub struct Analysis {
    pub graph: HeapGraph,
    pub dominators: DominatorTree,
    pub distances: Distances,
    pub classes: Classes,
    pub weakmaps: EphemeronNames,
    /// How many storage nodes had their size moved into their owner.
    pub folded_nodes: usize,
}

impl Analysis {
    pub fn new(mut graph: HeapGraph, opts: &AnalysisOptions) -> Analysis {
        let phase = |p: Phase| {
            if let Some(f) = opts.on_phase {
                f(p)
            }
        };
        phase(Phase::Folding);
        let has_user_roots = !user_roots(&graph).is_empty();
        let folded_nodes = fold_storage_into_owners(&mut graph, has_user_roots);
        let weakmaps = EphemeronNames::new(&graph);

        phase(Phase::Dominators);
        let dominators = {
            let page = page_objects(&graph);
            let essential = essential_edges(&graph, &weakmaps, &page);
            drop(page);
            // The closure owns the bit set, so `compute` can free it before its peak.
            dominators::compute(&graph, HeapGraph::ROOT, move |_, e, _| essential.get(e))
        };

        phase(Phase::Distances);
        let distances = Distances::compute(&graph, &weakmaps, opts.retainer_paths);

        phase(Phase::Classes);
        let classes = Classes::new(&graph);
        Analysis { graph, dominators, distances, classes, weakmaps, folded_nodes }
    }

    pub fn summary(&self) -> Summary {
        summarize(&self.graph, &self.classes, &self.dominators, &self.distances)
    }
}
