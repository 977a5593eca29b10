//! The diagnosis as data: what `leaks --json` prints and what `hunt` builds on.

use leakhunt_engine::NodeIndex;
use serde::{Deserialize, Serialize};

use super::facts::SnapshotInfo;
use super::growth::Series;
use super::patterns::Pattern;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Leak,
    Clean,
}

/// Where the code that holds a suspect is, 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeLocation {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub function: Option<String>,
}

/// A variable captured by a closure, and the bytes behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    pub name: String,
    pub bytes: u64,
}

/// How a suspect grew over the ladder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Growth {
    pub count_per_step: f64,
    pub bytes_per_step: f64,
    pub series: Series,
}

impl Growth {
    /// Adds another part's bytes (objects of another class growing in the same place); the
    /// count stays this part's, which names the suspect.
    pub fn absorb(&mut self, other: &Growth) {
        self.bytes_per_step += other.bytes_per_step;
        for (b, extra) in self.series.bytes.iter_mut().zip(&other.series.bytes) {
            *b += extra;
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suspect {
    pub pattern: Pattern,
    /// Class of the objects that accumulate (the top of each leaked structure).
    pub class: String,
    /// Objects (or collection entries) added per step, on average.
    pub count_per_step: f64,
    /// What `count_per_step` counts: `objects`, a collection's `entries`, or for an array of
    /// numbers its storage `slots`.
    #[serde(default = "objects")]
    pub count_unit: String,
    /// Retained bytes added per step, on average.
    pub bytes_per_step: f64,
    /// Bytes these objects retain in the last snapshot.
    pub retained_bytes: u64,
    /// The measure in each snapshot, first to last.
    pub count_by_snapshot: Vec<u64>,
    pub bytes_by_snapshot: Vec<u64>,
    /// One representative path, leaked object first, `(GC roots)` last.
    pub retainer_path: Vec<String>,
    pub location: Option<CodeLocation>,
    /// The growing collection, named by where it is held (`module lib/cache.js > userCache`).
    pub collection: Option<String>,
    /// For closures: the captured variables holding the most bytes.
    pub captured: Vec<Captured>,
    pub explanation: String,
    pub fix: String,
    /// Node id of the representative object in the last snapshot.
    pub example_id: u32,
    /// Nodes on the representative path (to tell which suspects a collection explains).
    #[serde(skip)]
    pub path_nodes: Vec<NodeIndex>,
}

fn objects() -> String {
    "objects".into()
}

impl Suspect {
    /// True when `n` is the suspect's object or one of the holders on its path.
    pub fn holds(&self, n: NodeIndex) -> bool {
        self.path_nodes.contains(&n)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeakReport {
    pub verdict: Verdict,
    pub snapshots: Vec<SnapshotInfo>,
    /// Steps between snapshots (snapshots − 1).
    pub steps: usize,
    /// Largest growth per step first.
    pub suspects: Vec<Suspect>,
}

impl LeakReport {
    pub fn new(snapshots: Vec<SnapshotInfo>, suspects: Vec<Suspect>) -> LeakReport {
        LeakReport {
            verdict: if suspects.is_empty() {
                Verdict::Clean
            } else {
                Verdict::Leak
            },
            steps: snapshots.len().saturating_sub(1),
            snapshots,
            suspects,
        }
    }
}
