//! Analyses over several heap snapshots of one process.
//!
//! - [`diff`]: DevTools' Comparison view: per class, objects new and deleted between two
//!   snapshots (matched by node id, which V8 keeps stable within a process), their sizes, and
//!   the change in retained size.
//! - [`leaks`]: leak diagnosis over a ladder of snapshots taken after equal amounts of work.
//! - [`locator`]: objects, retainer paths and source positions as every report shows them
//!   (source-mapped, paths relative to a root), the same for `leaks`, `hunt` and `retainers`.
//!
//! What they find is plain data ([`leakhunt_findings`]); the words and the formats are the
//! printer's.

pub mod diff;
mod hash;
pub mod identity;
pub mod leaks;
pub mod locator;
pub mod objects;
pub mod source_map;

pub use diff::{compare, ClassDiff, Comparison, DiffError};
pub use leaks::{diagnose, LeakError, LeakOptions, LeakReport, Suspect, Verdict};
pub use locator::Locator;
pub use objects::SnapshotObjects;
