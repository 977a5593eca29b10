//! leakhunt's engine: V8 heap snapshots in, flat graph and analyses out.
//!
//! - [`reader`] streams a `.heapsnapshot` (file, stdin, gzip, any `Read`) into a [`HeapGraph`]:
//!   flat columns indexed by node and edge ordinal, no object per node.
//! - Analyses run over those columns: GC roots and distances, the dominator tree and retained
//!   sizes, class grouping as Chrome DevTools does it, and retainer paths to the GC roots.
//!

pub mod error;
pub mod graph;
pub mod reader;
pub mod strings;

pub use error::{ErrorKind, SnapshotError};
pub use graph::{EdgeIndex, EdgeType, HeapGraph, Location, NodeIndex, NodeType, Producer};
pub use strings::StringTable;
pub mod builder;
pub mod dominators;

pub use builder::GraphBuilder;
pub use dominators::DominatorTree;
pub mod analysis;
pub mod bitset;
pub mod classes;
pub mod distances;
pub mod fold;
pub mod roots;
pub mod summary;
pub mod weakmap;

pub use analysis::{Analysis, AnalysisOptions, Phase};
pub use summary::{ClassRow, SortKey, Summary};
pub mod labels;
pub mod locations;
mod prefetch;
pub mod retainers;
pub mod timing;
pub mod writer;

pub use locations::{Locations, SourceLocation};
pub use retainers::{RetainerPath, Step};
