//! One snapshot, fully analysed: the graph with DevTools-style folded sizes, its dominator
//! tree, distances and classes. This is the entry point most callers want.

use crate::classes::Classes;
use crate::distances::Distances;
use crate::dominators::{self, DominatorTree};
use crate::fold::{fold_into_owners, storage_owners};
use crate::graph::HeapGraph;
use crate::roots::{essential_edges, page_objects, user_roots};
use crate::summary::{outermost_retained, summarize, Summary};
use crate::timing::stage;
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
    /// Per class: retained size of its outermost instances (see [`crate::summary`]).
    pub class_retained: Vec<u64>,
}

impl Analysis {
    /// Runs every analysis. Independent steps run two at a time: ownership beside page
    /// objects, distances beside the per-class retained sizes.
    pub fn new(graph: HeapGraph, opts: &AnalysisOptions) -> Analysis {
        Analysis::build(graph, opts, true)
    }

    /// Every analysis but the per-class retained sizes of the summary, which the leak
    /// diagnosis does not use (`class_retained` stays empty): it saves the dominator tree's
    /// children lists and a walk over them, per snapshot of a ladder.
    pub fn without_class_retained(graph: HeapGraph, opts: &AnalysisOptions) -> Analysis {
        Analysis::build(graph, opts, false)
    }

    fn build(mut graph: HeapGraph, opts: &AnalysisOptions, with_class_retained: bool) -> Analysis {
        let phase = |p: Phase| {
            if let Some(f) = opts.on_phase {
                f(p)
            }
        };
        phase(Phase::Folding);
        let has_user_roots = !user_roots(&graph).is_empty();
        let t = stage("folding ‖ page objects");
        let (owners, page, weakmaps) = std::thread::scope(|s| {
            let page = s.spawn(|| {
                let _t = stage("page objects");
                page_objects(&graph)
            });
            let _t = stage("storage owners, weakmaps");
            let owners = storage_owners(&graph, has_user_roots);
            let weakmaps = EphemeronNames::new(&graph);
            (owners, page.join().expect("page objects thread"), weakmaps)
        });
        let folded_nodes = fold_into_owners(&mut graph, &owners);
        drop(owners);
        drop(t);

        phase(Phase::Dominators);
        let dominators = {
            let t = stage("essential edges");
            let essential = essential_edges(&graph, &weakmaps, &page);
            drop(page);
            drop(t);
            // The closure owns the bit set, so `compute` can free it before its peak.
            dominators::compute(&graph, HeapGraph::ROOT, move |_, e, _| essential.get(e))
        };

        phase(Phase::Classes);
        let classes = Classes::new(&graph);

        phase(Phase::Distances);
        let with_paths = opts.retainer_paths;
        let _t = stage("distances ‖ class retained");
        let (distances, class_retained) = std::thread::scope(|s| {
            let d = s.spawn(|| {
                let _t = stage("distances");
                Distances::compute(&graph, &weakmaps, with_paths)
            });
            let r = if with_class_retained {
                let _t = stage("class retained sizes");
                outermost_retained(&graph, &classes, &dominators)
            } else {
                Vec::new()
            };
            (d.join().expect("distances thread"), r)
        });
        Analysis {
            graph,
            dominators,
            distances,
            classes,
            weakmaps,
            folded_nodes,
            class_retained,
        }
    }

    pub fn summary(&self) -> Summary {
        summarize(
            &self.graph,
            &self.classes,
            &self.dominators,
            &self.distances,
            &self.class_retained,
        )
    }
}
