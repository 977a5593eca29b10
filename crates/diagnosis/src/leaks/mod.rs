//! Leak diagnosis over a ladder of snapshots of one process, taken after equal amounts of
//! work (`S1`, `S2`, `S3`, …).
//!
//! 1. Every snapshot is measured ([`facts`]): object ids, and per class and anchor (the
//!    collection objects accumulate under, [`anchors`]) how many objects there are and what
//!    they retain; collections' sizes.
//! 2. In the last snapshot, objects allocated after `S1` are grouped under their *leak
//!    roots* ([`roots`]): the top of each new structure in the dominator tree.
//! 3. Leak roots of one class under one anchor form a group; a group whose population and
//!    bytes rise at every step is a suspect ([`growth`]). So is a collection whose entries
//!    rise at every step (an array of numbers leaks without new objects).
//! 4. Each suspect gets its representative path, its pattern and the facts that explain it
//!    ([`patterns`]), and the source location that holds it ([`source`]), as
//!    [`leakhunt_findings`] data; places and paths through [`crate::locator::Locator`].

pub mod anchors;
mod chain;
pub mod entries;
pub mod facts;
pub mod growth;
pub mod patterns;
pub mod report;
pub mod roots;
pub mod source;

use std::path::{Path, PathBuf};

use leakhunt_engine::graph::{HeapGraph, NodeType};
use leakhunt_engine::reader::{read_path, ReadOptions};
use leakhunt_engine::timing::stage;
use leakhunt_engine::{Analysis, AnalysisOptions, NodeIndex, SnapshotError};
pub use leakhunt_findings::{LeakReport, Suspect, Verdict};

use crate::hash::{FastMap, FastSet};
use crate::locator::Locator;
use crate::source_map::SourceMaps;
use anchors::AnchoredKeys;
use facts::Facts;
use growth::Series;
use report::Growth;

#[derive(Debug, thiserror::Error)]
pub enum LeakError {
    #[error(
        "leak diagnosis needs at least 3 snapshots taken after equal amounts of work (got {0})"
    )]
    TooFewSnapshots(usize),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("{first} and {last} do not come from one process: {why} (node ids are only stable within a process)")]
    NotOneProcess {
        first: String,
        last: String,
        why: String,
    },
}

/// Knobs for [`diagnose`].
#[derive(Debug, Clone)]
pub struct LeakOptions {
    /// Growth below this many bytes per step is not reported (allocator noise, warm caches).
    pub min_bytes_per_step: u64,
    /// How many suspects to keep, largest growth first.
    pub max_suspects: usize,
    /// Show paths relative to this folder when inside it (default: the current directory).
    pub paths_relative_to: Option<PathBuf>,
}

impl Default for LeakOptions {
    fn default() -> Self {
        LeakOptions {
            min_bytes_per_step: 1024,
            max_suspects: 10,
            paths_relative_to: None,
        }
    }
}

/// Progress of a diagnosis, for displays.
pub enum Progress<'a> {
    Reading {
        index: usize,
        of: usize,
        file: &'a Path,
    },
    Analysing,
}

/// One snapshot analysed and measured.
pub struct Measured {
    /// The analysis and the keys it was measured by: kept for the last snapshot of a ladder,
    /// whose objects are explained; dropped for earlier ones, whose measures are enough.
    full: Option<(Analysis, AnchoredKeys)>,
    facts: Facts,
}

impl Measured {
    /// Analyses and measures a snapshot already read (as `hunt` does while streaming), and
    /// keeps the analysis: for the last snapshot of a ladder.
    pub fn new(name: impl Into<PathBuf>, graph: leakhunt_engine::HeapGraph) -> Measured {
        Measured::analyse(name.into(), graph, true)
    }

    /// Measures an earlier snapshot of a ladder: only its measures are kept (the graph and
    /// the analysis are freed before this returns), and it needs no retainer paths.
    pub fn earlier(name: impl Into<PathBuf>, graph: leakhunt_engine::HeapGraph) -> Measured {
        Measured::analyse(name.into(), graph, false)
    }

    fn analyse(name: PathBuf, graph: leakhunt_engine::HeapGraph, keep: bool) -> Measured {
        let analysis = Analysis::without_class_retained(
            graph,
            &AnalysisOptions {
                retainer_paths: keep,
                on_phase: None,
            },
        );
        let keys = {
            let _t = stage("leaks: anchors");
            AnchoredKeys::compute(&analysis)
        };
        let _t = stage("leaks: measure");
        let facts = Facts::measure(name, &analysis, &keys);
        if keep {
            return Measured {
                full: Some((analysis, keys)),
                facts,
            };
        }
        drop((analysis, keys));
        leakhunt_engine::huge_pages::release_free_memory();
        Measured { full: None, facts }
    }

    fn read(file: &Path, last: bool) -> Result<Measured, SnapshotError> {
        let graph = read_path(file, &ReadOptions::default())?;
        Ok(Measured::analyse(file.into(), graph, last))
    }

    /// Headline numbers of the snapshot.
    pub fn info(&self) -> &facts::SnapshotInfo {
        &self.facts.info
    }

    /// Keeps only the measures (what earlier snapshots of a ladder need).
    pub fn into_facts(self) -> Facts {
        self.facts
    }
}

/// Diagnoses the ladder `files` (oldest first).
///
/// The earlier snapshots are measured on one thread (keeping only their measures) while the
/// last, the one whose objects are explained, is read and analysed on another.
pub fn diagnose(
    files: &[PathBuf],
    opts: &LeakOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<LeakReport, LeakError> {
    if files.len() < 3 {
        return Err(LeakError::TooFewSnapshots(files.len()));
    }
    let last_index = files.len() - 1;
    let (earlier, last) = std::thread::scope(|s| {
        let earlier = s.spawn(|| {
            files[..last_index]
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    progress(Progress::Reading {
                        index: i,
                        of: files.len(),
                        file: f,
                    });
                    Measured::read(f, false).map(Measured::into_facts)
                })
                .collect::<Result<Vec<Facts>, SnapshotError>>()
        });
        let last = Measured::read(&files[last_index], true);
        (earlier.join().expect("snapshot thread"), last)
    });
    let earlier = earlier?;
    let last = last?;
    progress(Progress::Analysing);
    diagnose_measured(earlier, last, opts, &mut SourceMaps::new())
}

/// Diagnoses a ladder already measured: the earlier snapshots' measures (oldest first) and
/// the last snapshot in full.
/// Source positions are mapped through `maps` (scripts' own maps are found on disk; the
/// inspector can announce more).
pub fn diagnose_measured(
    earlier: Vec<Facts>,
    last: Measured,
    opts: &LeakOptions,
    maps: &mut SourceMaps,
) -> Result<LeakReport, LeakError> {
    if earlier.len() < 2 {
        return Err(LeakError::TooFewSnapshots(earlier.len() + 1));
    }
    let Measured {
        full,
        facts: last_facts,
    } = last;
    let (last, keys) = full.expect("the last snapshot is measured with Measured::new");
    check_one_process(&earlier[0], &last_facts)?;
    let _t = stage("leaks: suspects");
    let mut all: Vec<&Facts> = earlier.iter().collect();
    all.push(&last_facts);
    let locator = Locator::new(&last, std::mem::take(maps), opts.paths_relative_to.clone());
    let mut candidates = grouped_suspects(&last, &keys, &all, opts);
    let held: FastSet<NodeIndex> = candidates
        .iter()
        .flat_map(|c| c.path_nodes.iter().copied())
        .collect();
    candidates.extend(collection_suspects(&last, &all, &held, opts));
    candidates.sort_by(|a, b| b.growth.bytes_per_step.total_cmp(&a.growth.bytes_per_step));
    // Only the suspects shown are explained (paths, patterns, source lines): a heap with
    // thousands of growing collections would otherwise read scripts thousands of times.
    candidates.truncate(opts.max_suspects);
    let suspects = candidates
        .into_iter()
        .map(|c| patterns::explain(&locator, c.object, Some(c.anchor), c.collection, c.growth))
        .collect();
    Ok(LeakReport::new(
        all.iter().map(|f| f.info.clone()).collect(),
        suspects,
    ))
}

fn check_one_process(first: &Facts, last: &Facts) -> Result<(), LeakError> {
    let shared = first.ids.iter().filter(|&&id| last.has_id(id)).count() as u64;
    let total = first.ids.len() as u64;
    // A process keeps most of its objects between snapshots (code, modules, globals); two
    // processes share only the ids both happened to hand out.
    let why = if shared * 4 < total {
        format!("only {shared} of {total} objects of the first are in the last")
    } else {
        let agreement = first.fingerprints.agreement(&last.fingerprints);
        if agreement.is_one_process() {
            return Ok(());
        }
        format!(
            "{} of {} sampled ids they share name different objects",
            agreement.differing, agreement.shared
        )
    };
    Err(LeakError::NotOneProcess {
        first: first.info.file.clone(),
        last: last.info.file.clone(),
        why,
    })
}

/// Leak roots grouped by anchored key; groups that grow at every step become suspects, and
/// growing groups under the same anchor (a Map's keys and its values) make one suspect.
fn grouped_suspects(
    last: &Analysis,
    keys: &AnchoredKeys,
    all: &[&Facts],
    opts: &LeakOptions,
) -> Vec<Candidate> {
    let mut groups: FastMap<u64, Vec<NodeIndex>> = FastMap::default();
    for root in roots::leak_roots(last, &keys.order, all[0]) {
        // Objects only the roots dominate (interned strings held by the string table and a
        // dictionary, values on the stack) have no holder of their own to blame.
        let anchor = keys.anchor[root as usize];
        if anchor == HeapGraph::ROOT || last.graph.node_type(anchor) == NodeType::Synthetic {
            continue;
        }
        groups
            .entry(keys.of_node[root as usize])
            .or_default()
            .push(root);
    }
    // Growing groups, gathered per anchor (by the anchor's own signature).
    let mut by_anchor: FastMap<NodeIndex, Vec<(Growth, NodeIndex)>> = FastMap::default();
    for (key, members) in groups {
        let series = Series {
            counts: all
                .iter()
                .map(|f| f.populations.get(&key).copied().unwrap_or_default().count)
                .collect(),
            bytes: all
                .iter()
                .map(|f| f.populations.get(&key).copied().unwrap_or_default().bytes)
                .collect(),
        };
        let Some(growth) = series.growth() else {
            continue;
        };
        let representative = *members
            .iter()
            .max_by_key(|&&n| (last.dominators.retained[n as usize], std::cmp::Reverse(n)))
            .unwrap();
        let anchor = keys.anchor[representative as usize];
        by_anchor
            .entry(anchor)
            .or_default()
            .push((growth, representative));
    }
    // One candidate per anchor: the bytes are everyone's; the biggest part that sits directly
    // under the anchor names it (not one inside another part: the slabs of ArrayBuffer
    // behind a list of Buffers, found through the Buffers, are the Buffers' bytes).
    let mut candidates: Vec<(Growth, NodeIndex)> = Vec::new();
    for (anchor, mut parts) in by_anchor {
        parts.sort_by(|a, b| b.0.bytes_per_step.total_cmp(&a.0.bytes_per_step));
        let part_keys: FastSet<u64> = parts.iter().map(|p| keys.of_node[p.1 as usize]).collect();
        let inside_another_part = |n: NodeIndex| {
            let Some(path) = last.shortest_path(n) else {
                return false;
            };
            path.steps
                .iter()
                .map(|s| s.holder)
                .take_while(|&h| h != anchor)
                .any(|h| part_keys.contains(&keys.of_node[h as usize]))
        };
        let naming = if parts.len() > 1 {
            parts
                .iter()
                .position(|p| !inside_another_part(p.1))
                .unwrap_or(0)
        } else {
            0
        };
        let (mut growth, representative) = parts.swap_remove(naming);
        for (g, _) in &parts {
            growth.absorb(g);
        }
        candidates.push((growth, representative));
    }
    // Objects shared by the entries of a growing collection and something else are dominated
    // higher up, and form a group of their own; when their path runs through a bigger
    // candidate's collection, they are that candidate's growth.
    candidates.sort_by(|a, b| b.0.bytes_per_step.total_cmp(&a.0.bytes_per_step));
    let mut kept: Vec<Candidate> = Vec::new();
    // Kept candidates by anchor (one candidate per anchor): the first one on a path owns it.
    let mut kept_at: FastMap<NodeIndex, usize> = FastMap::default();
    for (growth, representative) in candidates {
        let anchor = keys.anchor[representative as usize];
        let path_nodes = path_nodes(last, representative);
        // (the holders on its path: all but the object itself, which comes last)
        let holders = &path_nodes[..path_nodes.len() - 1];
        let owner = holders.iter().filter_map(|h| kept_at.get(h)).min();
        match owner {
            Some(&i) => kept[i].growth.absorb(&growth),
            None => {
                kept_at.entry(anchor).or_insert(kept.len());
                kept.push(Candidate {
                    growth,
                    object: representative,
                    anchor,
                    collection: None,
                    path_nodes,
                });
            }
        }
    }
    kept.retain(|k| k.growth.bytes_per_step >= opts.min_bytes_per_step as f64);
    kept
}

/// A suspect before it is explained.
struct Candidate {
    growth: Growth,
    /// The representative object (for a collection growing by itself, the collection).
    object: NodeIndex,
    /// What the growth accumulates under.
    anchor: NodeIndex,
    /// Set when the suspect is a collection growing by itself.
    collection: Option<NodeIndex>,
    /// The object and the holders on its shortest path (to tell which collections a suspect
    /// already explains).
    path_nodes: Vec<NodeIndex>,
}

/// `n` and the holders on its shortest path.
fn path_nodes(last: &Analysis, n: NodeIndex) -> Vec<NodeIndex> {
    let mut nodes: Vec<NodeIndex> = last
        .shortest_path(n)
        .map(|p| {
            p.steps
                .iter()
                .map(|s| s.holder)
                .filter(|&h| h != HeapGraph::ROOT)
                .collect()
        })
        .unwrap_or_default();
    nodes.push(n);
    nodes
}

/// Collections that exist in every snapshot and gain entries and bytes at every step, and
/// are not on the path of a suspect already found (`held`: their growth is that suspect's).
fn collection_suspects(
    last: &Analysis,
    all: &[&Facts],
    held: &FastSet<NodeIndex>,
    opts: &LeakOptions,
) -> Vec<Candidate> {
    let g = &last.graph;
    let last_facts = all[all.len() - 1];
    let mut growing = Vec::new();
    for &id in last_facts.collections.keys() {
        let sizes: Option<Vec<_>> = all
            .iter()
            .map(|f| f.collections.get(&id).copied())
            .collect();
        let Some(sizes) = sizes else { continue };
        let series = Series {
            counts: sizes.iter().map(|s| s.entries).collect(),
            bytes: sizes.iter().map(|s| s.self_size.max(s.retained)).collect(),
        };
        let Some(growth) = series.growth() else {
            continue;
        };
        if growth.bytes_per_step >= opts.min_bytes_per_step as f64 {
            growing.push((id, growth));
        }
    }
    if growing.is_empty() {
        return Vec::new();
    }
    // Their nodes, found in one pass over the ids (the first node of each id).
    let mut node_of: FastMap<u32, NodeIndex> = growing
        .iter()
        .map(|&(id, _)| (id, NodeIndex::MAX))
        .collect();
    for n in 0..g.node_count() as NodeIndex {
        if let Some(slot) = node_of.get_mut(&g.node_id(n)) {
            if *slot == NodeIndex::MAX {
                *slot = n;
            }
        }
    }
    growing
        .into_iter()
        .filter_map(|(id, growth)| {
            let node = node_of[&id];
            (node != NodeIndex::MAX && !held.contains(&node)).then(|| Candidate {
                growth,
                object: node,
                anchor: node,
                collection: Some(node),
                path_nodes: Vec::new(),
            })
        })
        .collect()
}
