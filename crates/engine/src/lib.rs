//! leakhunt's engine: V8 heap snapshots in, flat graph and analyses out.
//!
//! - [`reader`] streams a `.heapsnapshot` (file, stdin, gzip, any `Read`) into a [`HeapGraph`]:
//!   flat columns indexed by node and edge ordinal, no object per node.
//! - [`Analysis`] runs the analyses over those columns, with Chrome DevTools' semantics so the
//!   numbers match what users see there: [`fold`] (internal storage into its owner), [`roots`]
//!   (which edges retain), [`dominators`] (retained sizes), [`distances`], [`classes`] and
//!   [`summary`].
//! - [`retainers`] reads paths from the GC roots off the distance search; [`locations`] turns
//!   V8's script ids into files and lines.
//!
//! ```
//! use leakhunt_engine::{reader, writer, Analysis, AnalysisOptions, EdgeType, GraphBuilder, NodeType};
//!
//! // A root holding one 100-byte object that holds a 1000-byte string.
//! let mut b = GraphBuilder::new();
//! let global = b.node(NodeType::Object, "Window", 100);
//! let s = b.node(NodeType::String, "hello", 1000);
//! b.edge(b.root(), EdgeType::Shortcut, "global", global);
//! b.edge(global, EdgeType::Property, "greeting", s);
//! let bytes = writer::snapshot_bytes(&b.build());
//!
//! let graph = reader::read_bytes(bytes)?;
//! let analysis = Analysis::new(graph, &AnalysisOptions::default());
//! let summary = analysis.summary();
//! let window = summary.classes.iter().find(|c| c.class == "Window").unwrap();
//! assert_eq!(window.retained_size, 1100);
//! # Ok::<(), leakhunt_engine::SnapshotError>(())
//! ```

pub mod analysis;
pub mod bitset;
pub mod builder;
pub mod classes;
pub mod distances;
pub mod dominators;
pub mod error;
pub mod fold;
pub mod graph;
pub mod huge_pages;
pub mod locations;
mod prefetch;
pub mod reader;
pub mod retainers;
pub mod roots;
pub mod strings;
pub mod summary;
pub mod timing;
pub mod traces;
pub mod weakmap;
pub mod writer;

pub use analysis::{Analysis, AnalysisOptions, Phase};
pub use builder::GraphBuilder;
pub use dominators::DominatorTree;
pub use error::{ErrorKind, SnapshotError};
pub use graph::{EdgeIndex, EdgeType, HeapGraph, Location, NodeIndex, NodeType, Producer};
pub use locations::{Locations, SourceLocation};
pub use retainers::{RetainerPath, Step};
pub use strings::StringTable;
pub use summary::{ClassRow, SortKey, Summary};
