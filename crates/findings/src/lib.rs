//! What leakhunt's analyses find, as plain data, and nothing else: no graph, no I/O, no
//! English, no formatted numbers. The analyses (`leakhunt-engine`, `leakhunt-diagnosis`,
//! `leakhunt-hunt`) build these values; the printer (`leakhunt-printer`) turns them into
//! terminal text, JSON, Markdown, HTML, SARIF and GitHub annotations. Every renderer reads
//! the same values, so the formats cannot disagree.
//!
//! - [`SourceLocation`]: one place in the program's source, already mapped through source
//!   maps, used by every report.
//! - [`HeapObject`], [`PathStep`], [`RetainerPath`]: why an object is alive, one reference
//!   at a time, from the object up to the GC roots.
//! - [`LeakReport`] / [`Suspect`] / [`Explanation`]: the leak diagnosis; an explanation holds
//!   the facts a sentence is made of, per [`Pattern`].
//! - [`HuntReport`], [`Comparison`]: a whole hunt, and two hunts before and after a fix.
//! - [`SummaryReport`], [`DiffReport`], [`RetainersReport`]: the single-snapshot views.
//!
//! Reports serialize to the JSON documented in the README; a top-level report carries
//! [`SCHEMA_VERSION`].

mod diff;
mod hunt;
mod leaks;
mod location;
mod path;
mod retainers;
mod summary;

pub use diff::{ClassDiff, DiffReport};
pub use hunt::{
    Change, ComparedSuspect, Comparison, GrowthFigure, GrowthGate, HuntReport, MemoryAfterGc,
    RoundLoad, ScenarioInfo, StepTimeouts,
};
pub use leaks::{
    AllocationStack, Captured, CountUnit, Explanation, LeakReport, NativeHolder, Owner, OwnerKind,
    Pattern, RequestInRecord, SnapshotInfo, Suspect, SuspendedFunction, Verdict,
};
pub use location::SourceLocation;
pub use path::{EdgeKind, HeapObject, PathStep, RetainerPath};
pub use retainers::{RetainedObject, RetainersReport};
pub use summary::{ClassRow, SummaryReport, Totals};

/// Version of the JSON reports' layout. Raised when a field changes meaning or goes away;
/// adding a field does not raise it.
pub const SCHEMA_VERSION: u32 = 1;

fn schema_version() -> u32 {
    SCHEMA_VERSION
}
