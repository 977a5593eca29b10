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
//!    rise at every step (an array of numbers leaks without new objects). The stages are in
//!    [`candidates`].
//! 4. Each suspect gets its representative path, its pattern and the facts that explain it
//!    ([`patterns`]), and the source location that holds it ([`source`]), as
//!    [`leakhunt_findings`] data; places and paths through [`crate::locator::Locator`].

pub mod anchors;
pub mod candidates;
mod chain;
mod enclosing;
pub mod entries;
pub mod facts;
pub mod growth;
pub mod native;
pub mod patterns;
pub mod roots;
pub mod source;
pub mod stacks;

use std::path::{Path, PathBuf};

use leakhunt_engine::reader::{read_path, ReadOptions};
use leakhunt_engine::timing::stage;
use leakhunt_engine::{Analysis, AnalysisOptions, SnapshotError};
pub use leakhunt_findings::{LeakReport, Suspect, Verdict};

use crate::locator::Locator;
use crate::source_map::SourceMaps;
use anchors::AnchoredKeys;
use facts::Facts;

#[derive(Debug, thiserror::Error)]
pub enum LeakError {
    #[error(
        "leak diagnosis needs at least 3 snapshots taken after equal amounts of work (got {0})"
    )]
    TooFewSnapshots(usize),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("{first} and {last} do not come from one process: {why} (node ids are only stable within a process and one inspector session: take all the snapshots in one, e.g. leakhunt snapshot --count 3 --every 30s, or with leakhunt hunt)")]
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
    // Objects new since the first snapshot, at the top of what they hold: grouped into
    // candidates, and the ones whose allocation stacks are read.
    let leak_roots = roots::leak_roots(&last, &keys.order, all[0]);
    let candidates = candidates::find(&last, &keys, &leak_roots, &all, opts);
    // Allocation stacks, when the snapshots have them.
    let leaked = stacks::LeakedObjects::new(&last, &keys, &leak_roots, all[0]);
    let stack_reader = stacks::StackReader::new(&locator);
    let suspects = candidates
        .into_iter()
        .map(|c| {
            let mut suspect = patterns::explain(
                &locator,
                c.object,
                Some(c.anchor),
                c.is_collection,
                c.growth,
            );
            if let Some(leaked) = &leaked {
                let found = stack_reader.explain(
                    leaked,
                    c.anchor,
                    c.object,
                    c.is_collection,
                    &suspect.class,
                );
                stacks::apply(found, &mut suspect);
            }
            suspect
        })
        .collect();
    let mut report = LeakReport::new(all.iter().map(|f| f.info.clone()).collect(), suspects);
    report.allocation_stacks_recorded = leaked.is_some();
    report.notes = locator.source_map_warnings();
    report.native_memory =
        native::holders(&locator, all[0], all.len() - 1, opts.min_bytes_per_step);
    Ok(report)
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
